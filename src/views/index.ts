export { figureLabel } from './figure-label.js';
export {
  alertText,
  formatNumber,
  html,
  isolated,
  PAGE_STYLE_SOURCE,
  page,
  type SafeHtml,
  scrollingTable,
  wantsHtml,
} from './html.js';
export { rootFrom } from './relative.js';

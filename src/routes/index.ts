export { carbonIntensityRoutes } from './carbon-intensity.js';
export { type ChatRouteDeps, chatRoutes } from './chat.js';
export { dashboardRoutes } from './dashboard.js';
export { energyRoutes } from './energy.js';
export { faviconRoute } from './favicon.js';
export { healthRoutes } from './health.js';
export { type MetricsText, metricsRoute } from './metrics.js';
export { predictRoutes } from './predict.js';
export { pathRouter } from './router.js';

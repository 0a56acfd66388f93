export { CHAR_0, CHAR_9, CLOSE_PAREN, NEWLINE, OPEN_PAREN, SPACE } from './ascii.js';
export { readBootId } from './boot-id.js';
export { freshFileReader, type HeadReader, keptFileReader } from './kept-file.js';
export { procRefused } from './proc-refused.js';
export {
  blankProcStat,
  type ProcFs,
  type ProcStat,
  parseProcStat,
  realProcFs,
} from './proc-stat.js';
export { USER_HZ } from './user-hz.js';

export { BodyTooLargeError, type ReadLimits, readChunks, readText, untilAborted } from './read.js';

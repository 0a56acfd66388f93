/**
 * The bytes /proc's text is parsed by. Its readers parse bytes, not strings (they run every
 * sample, over every process), so they compare these codes.
 */
export const NEWLINE = 10;
export const SPACE = 32;
export const OPEN_PAREN = 40;
export const CLOSE_PAREN = 41;
export const CHAR_0 = 48;
export const CHAR_9 = 57;

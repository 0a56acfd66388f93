export * from './catalog.js';
export * from './data-file.js';
export * from './errors.js';
export * from './format.js';
export * from './impacts.js';
export * from './llm-impacts.js';
export * from './status.js';

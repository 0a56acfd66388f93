export * from './catalog.js';
export * from './errors.js';
export * from './impacts.js';

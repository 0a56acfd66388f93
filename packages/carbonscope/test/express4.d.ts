/**
 * Express 4 (the `express4` alias the tests run it under) ships no types; its API, as far as the
 * tests use it, is Express 5's.
 */
declare module 'express4' {
  import express from 'express';
  export default express;
}

/** Express 4.19, the last 4.x with path-to-regexp 0.1.7 (other RegExp sources than 0.1.10+'s). */
declare module 'express419' {
  import express from 'express';
  export default express;
}

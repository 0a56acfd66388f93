/**
 * Express 4 (the `express4` alias the tests run it under) ships no types; its API, as far as the
 * tests use it, is Express 5's.
 */
declare module 'express4' {
  import express from 'express';
  export default express;
}

/**
 * koa-router 7.1 (the `koa-router71` alias the tests run it under, the oldest that names the
 * matched route) ships no types; its API, as far as the tests use it, is @koa/router's.
 */
declare module 'koa-router71' {
  import Router from '@koa/router';
  export default Router;
}

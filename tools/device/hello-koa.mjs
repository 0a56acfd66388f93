// Koa + @koa/router for overhead.mjs: the same cached JSON on one route, as the bench's minimal app.
import Router from '@koa/router';
import Koa from 'koa';

const answer = { hello: 'world', zone: 'DE', carbonIntensity: 300 };
const router = new Router();
router.get('/hello', (ctx) => {
  ctx.body = answer;
});
new Koa().use(router.routes()).listen(Number(process.env.PORT), '127.0.0.1');

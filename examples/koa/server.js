// A Koa service that knows nothing of carbonscope.
import Router from '@koa/router';
import Koa from 'koa';

const app = new Koa();
const router = new Router();
router.get('/users/:id', (ctx) => {
  let sum = 0;
  for (let i = 0; i < 200_000; i++) sum += i % 7;
  ctx.body = { id: ctx.params.id, sum };
});
router.get('/hello', (ctx) => {
  ctx.body = 'hello';
});
app.use(router.routes());

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});

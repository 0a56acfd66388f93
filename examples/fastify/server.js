// A Fastify service that knows nothing of carbonscope.
import Fastify from 'fastify';

const app = Fastify();
app.get('/users/:id', async (request) => {
  let sum = 0;
  for (let i = 0; i < 200_000; i++) sum += i % 7;
  return { id: request.params.id, sum };
});
app.get('/hello', async () => 'hello');

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening ${new URL(address).port}`);

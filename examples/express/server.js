// An Express service that knows nothing of carbonscope.
import express from 'express';

const app = express();
const users = express.Router();
users.get('/:id', (req, res) => {
  let sum = 0;
  for (let i = 0; i < 200_000; i++) sum += i % 7;
  res.json({ id: req.params.id, sum });
});
app.use('/users', users);
app.get('/hello', (_req, res) => res.send('hello'));

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});

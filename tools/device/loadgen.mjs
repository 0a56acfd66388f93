// One load process of overhead.mjs: on each message {seconds}, loads the URL with autocannon and
// answers the 2xx count. Kept running between rounds so no start-up falls inside a round.
import autocannon from 'autocannon';

const [url, connections] = process.argv.slice(2);
process.on('message', async ({ seconds }) => {
  const r = await autocannon({ url, connections: Number(connections), duration: seconds });
  process.send({ ok: r['2xx'], other: r.non2xx + r.errors + r.timeouts });
});
process.on('disconnect', () => process.exit(0));

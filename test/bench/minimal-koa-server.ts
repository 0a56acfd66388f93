/**
 * The smallest service that answers like the app's GET /carbon_intensity: Koa and @koa/router,
 * the same JSON (the grid service's reading for the default zone, fetched once and cached), and
 * nothing else. The yardstick for "the app against a minimal Koa app" in the benchmark.
 */
import Router from '@koa/router';
import { createGridIntensity, stderrLogger } from 'carbonscope';
import Koa from 'koa';
import { loadConfig } from '../../src/config.js';

const config = loadConfig(process.env);
const reading = await createGridIntensity({ config, logger: stderrLogger() }).current();
const router = new Router();
router.get('/carbon_intensity', (ctx) => {
  ctx.body = reading;
});
router.get('/readyz', (ctx) => {
  ctx.body = { ready: true };
});
const app = new Koa();
app.use(router.routes());
const server = app.listen(config.port, config.host);
process.once('SIGTERM', () => server.close(() => process.exit(0)));

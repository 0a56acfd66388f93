import type { OperationFootprint } from '../../src/energy/index.js';
import { bindMetrics } from '../../src/otel/binding/bind-metrics.js';
import type { Carbonscope } from '../../src/runtime/carbonscope.js';
import { steadyCarbonscope } from '../unit/energy/scripted.js';
import type { TestMetrics } from './metrics.js';

/**
 * carbonscope on a steady host with its HTTP metrics (`http.server.request.duration`) bound to
 * `metrics`, and the operations it finishes as they finish: what the tests of a request's
 * outcome read back. Requests are not tracked until the test says (`cs.trackRequests()`).
 */
export async function withHttpMetrics(
  metrics: TestMetrics,
  env: Record<string, string> = {},
): Promise<{ cs: Carbonscope; ended: OperationFootprint[] }> {
  const cs = await steadyCarbonscope({}, env);
  bindMetrics(metrics.meter, cs, { http: true, histograms: metrics.histograms });
  const ended: OperationFootprint[] = [];
  cs.onFinish((f) => ended.push(f));
  return { cs, ended };
}

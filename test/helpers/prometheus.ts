import { readFileSync } from 'node:fs';
import { launchPrometheus } from '#library-tests/helpers/prometheus.js';
import { RULES_FILE } from './stack.js';
import { waitFor } from './wait.js';

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** The part of Prometheus's HTTP API the stack tests read. */
export class PrometheusClient {
  constructor(readonly url: string) {}

  private async get<T>(path: string, params: URLSearchParams, what: string): Promise<T> {
    const res = await fetch(`${this.url}${path}?${params}`);
    const body = (await res.json()) as { status: string; error?: string; data?: T };
    if (body.status !== 'success' || body.data === undefined) {
      throw new Error(`${body.error ?? res.status}: ${what}`);
    }
    return body.data;
  }

  /** An instant query; fails unless the result is a vector. */
  async query(expr: string, time?: number): Promise<Sample[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', String(time));
    const data = await this.get<{ resultType: string; result: Sample[] }>(
      '/api/v1/query',
      params,
      expr,
    );
    if (data.resultType !== 'vector') throw new Error(`${data.resultType}, not a vector: ${expr}`);
    return data.result;
  }

  /** Every series (name and labels) that matches a selector, over all stored time. */
  async series(match: string): Promise<Array<Record<string, string>>> {
    return this.get('/api/v1/series', new URLSearchParams({ 'match[]': match }), match);
  }

  /** The values `label` takes on the series of `metric`: what Grafana's label_values asks. */
  async labelValues(label: string, metric: string): Promise<string[]> {
    const params = new URLSearchParams({ 'match[]': metric });
    return this.get(`/api/v1/label/${encodeURIComponent(label)}/values`, params, label);
  }

  async alertRules(): Promise<AlertRuleState[]> {
    const data = await this.get<{ groups: Array<{ rules: AlertRuleState[] }> }>(
      '/api/v1/rules',
      new URLSearchParams({ type: 'alert' }),
      'alert rules',
    );
    return data.groups.flatMap((g) => g.rules);
  }
}

/** An alert rule as /api/v1/rules gives it: its health, its state and its alerts' labels. */
export interface AlertRuleState {
  name: string;
  health: string;
  state: string;
  alerts: Array<{ labels: Record<string, string>; state: string }>;
}

export interface RunningPrometheus {
  client: PrometheusClient;
  /** host:port it listens on (loopback), for a scrape config that names Prometheus itself. */
  address: string;
  /** Its log (stderr), for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * launchPrometheus with the repository's rules.yml beside its config (`config(address)`);
 * resolves once /-/ready answers.
 */
export async function startPrometheus(
  config: (address: string) => string,
): Promise<RunningPrometheus> {
  const rules = { 'rules.yml': readFileSync(RULES_FILE, 'utf8') };
  const { proc, address, log, stop } = await launchPrometheus(config, rules);
  const client = new PrometheusClient(`http://${address}`);
  try {
    // An exit ends the wait at once; the check below reports it.
    await waitFor(
      `Prometheus on ${address} to be ready`,
      async () => proc.exitCode !== null || (await fetch(`${client.url}/-/ready`)).ok,
      20_000,
    );
    if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}`);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${log()}`);
  }
  return { client, address, log, stop };
}

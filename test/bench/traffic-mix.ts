/**
 * A mix of requests over every endpoint, good and bad: used to populate every instrument
 * before timing /metrics, and as the soak test's load.
 */
import { randomBytes } from 'node:crypto';
import type { LoadRequest } from './load.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };
const HTML = { accept: 'text/html' };

export const ZONES = ['DE', 'FR', 'SE', 'PL', 'NO', 'US-CAL-CISO', 'IN'];

export const ACTIVITIES = [
  'driving 10 hours',
  'cycling to work',
  'eating 200 grams of beef',
  'running the heater for 8 hours',
  'buying a new laptop',
];

const post = (path: string, body: unknown, headers = JSON_TYPE): LoadRequest => ({
  method: 'POST',
  path,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

const chat = (model?: string): LoadRequest =>
  post('/chat', { messages: [{ role: 'user', content: 'What does a kWh cost in CO2?' }], model });

/** A weighted mix: each entry appears `weight` times in the pool. */
export function requestMix(models: readonly string[]): Array<[LoadRequest, number]> {
  return [
    [{ path: '/healthz' }, 3],
    [{ path: '/readyz' }, 1],
    [{ path: '/energy' }, 2],
    [{ path: '/metrics' }, 1],
    [{ path: '/dashboard' }, 1],
    [{ path: '/dashboard/data' }, 2],
    [{ path: '/predict' }, 1],
    [{ path: '/predict', headers: HTML }, 1],
    [{ path: '/chat' }, 1],
    [{ path: '/chat', headers: HTML }, 1],
    [{ path: '/carbon_intensity' }, 2],
    [{ path: '/carbon_intensity/history?zone=FR' }, 1],
    [{ path: '/carbon_intensity?zone=FR', headers: HTML }, 1],
    ...ZONES.map((z): [LoadRequest, number] => [{ path: `/carbon_intensity?zone=${z}` }, 1]),
    // Bad zones: malformed (400) and well-formed but unknown (404).
    [{ path: '/carbon_intensity?zone=not-a-zone!' }, 1],
    [{ path: '/carbon_intensity?zone=ZZ' }, 1],
    ...ACTIVITIES.map((a): [LoadRequest, number] => [post('/predict', { activity: a }), 3]),
    [post('/predict', `activity=${encodeURIComponent(ACTIVITIES[0])}`, FORM_TYPE), 1],
    // Bad predictions: no field, malformed JSON, wrong type, too long, nothing to classify.
    [post('/predict', {}), 1],
    [post('/predict', '{"activity":'), 1],
    [post('/predict', 'driving', { 'content-type': 'text/plain' }), 1],
    [post('/predict', { activity: 'x'.repeat(600) }), 1],
    [post('/predict', { activity: '!!! ???' }), 1],
    [post('/predict', { activity: 'y'.repeat(70 * 1024) }), 1],
    [chat(), 2],
    ...models.slice(0, 4).map((m): [LoadRequest, number] => [chat(m), 1]),
    // Bad chats: unknown model, empty messages, bad role, wrong content type.
    [chat('no-such-model'), 1],
    [post('/chat', { messages: [] }), 1],
    [post('/chat', { messages: [{ role: 'wizard', content: 'hi' }] }), 1],
    [post('/chat', 'hi', { 'content-type': 'text/plain' }), 1],
    // Wrong methods (405).
    [{ method: 'DELETE', path: '/healthz' }, 1],
    [{ method: 'PUT', path: '/predict' }, 1],
  ];
}

/** Every request of the mix once, plus one random path. */
export function everyRequest(models: readonly string[]): LoadRequest[] {
  return [...requestMix(models).map(([r]) => r), randomPath()];
}

/** A path no route matches, different every time: must not add series. */
export function randomPath(): LoadRequest {
  return { path: `/random/${randomBytes(6).toString('hex')}?q=${randomBytes(3).toString('hex')}` };
}

/** A picker over the weighted mix; one request in `randomShare` goes to a random path. */
export function mixPicker(models: readonly string[], randomShare = 0.05): () => LoadRequest {
  const pool: LoadRequest[] = [];
  for (const [request, weight] of requestMix(models)) {
    for (let i = 0; i < weight; i++) pool.push(request);
  }
  return () =>
    Math.random() < randomShare ? randomPath() : pool[Math.floor(Math.random() * pool.length)];
}

/** The model names GET /chat offers. */
export async function chatModels(url: string): Promise<string[]> {
  const res = await fetch(`${url}/chat`, { headers: { accept: 'application/json' } });
  const body = (await res.json()) as { models?: unknown };
  return Array.isArray(body.models) ? body.models.filter((m) => typeof m === 'string') : [];
}

/** Sends each request once, sequentially; returns the status codes seen. */
export async function sendEach(url: string, requests: readonly LoadRequest[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const r of requests) {
    const res = await fetch(`${url}${r.path}`, {
      method: r.method ?? 'GET',
      headers: r.headers,
      body: r.body,
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}

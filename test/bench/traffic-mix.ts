/**
 * A mix of requests over every endpoint, good and bad: used to populate every instrument
 * before timing /metrics, and as the soak test's load. Part of it is drawn anew for every
 * request: random paths, random zones (real ones from Electricity Maps' list, made-up ones,
 * ones of thousands of characters), random model names (real and made-up, short and long) and
 * long values, so a label a client can influence shows up as growth in the series.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { electricityMapsZones } from 'carbonscope';
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

/** Every request of the mix once, plus one of each random kind. */
export function everyRequest(models: readonly string[]): LoadRequest[] {
  return [...requestMix(models).map(([r]) => r), ...RANDOM_KINDS.map((make) => make(models))];
}

/**
 * One chat for every model GET /chat offers: admits every real model name before a baseline
 * (the random part of the mix picks among them, so a short warm-up could miss some).
 */
export function chatEveryModel(models: readonly string[]): LoadRequest[] {
  return models.map((m) => chat(m));
}

/** A path no route matches, different every time: must not add series. */
export function randomPath(): LoadRequest {
  return { path: `/random/${randomBytes(6).toString('hex')}?q=${randomBytes(3).toString('hex')}` };
}

/** Every zone of Electricity Maps' list (the zones the service asks about). */
const REAL_ZONES = electricityMapsZones();
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const letters = (n: number) => Array.from({ length: n }, () => LETTERS[randomInt(26)]).join('');
const one = <T>(items: readonly T[]): T => items[randomInt(items.length)] as T;

/** A zone key: a real one, a made-up well-formed one, or one thousands of characters long. */
export function randomZone(): string {
  const kind = randomInt(10);
  if (kind < 6) return one(REAL_ZONES);
  if (kind < 9) return `${letters(2)}-${letters(1 + randomInt(6))}`;
  return `${letters(2)}-${letters(2000 + randomInt(6000))}`;
}

/** A model name: a real one of GET /chat, a made-up one, or a very long one. */
function randomModel(models: readonly string[]): string {
  const kind = randomInt(10);
  if (kind < 6 && models.length > 0) return one(models);
  if (kind < 9) return `model-${randomBytes(4).toString('hex')}`;
  return `m${'x'.repeat(200 + randomInt(4000))}`;
}

/**
 * An odd method on a path no route matches, up to 3,000 characters long. At least one `p`: the
 * bare `/` is the app's address, a route of its own (405 to PATCH), which a draw of none (1 in
 * 3,000) made a label state the warm-up reached in about one soak in three, and the soak's
 * "series unchanged" failed on the 88 series of operation and route `/` when it came later.
 * `draw(n)`: an integer in [0, n).
 */
export function oddMethodLongPath(draw: (n: number) => number = (n) => randomInt(n)): LoadRequest {
  return { method: 'PATCH', path: `/${'p'.repeat(1 + draw(3000))}` };
}

/** Requests drawn anew every time: none of them may add a series once the bounds are full. */
const RANDOM_KINDS: Array<(models: readonly string[]) => LoadRequest> = [
  randomPath,
  () => ({ path: `/carbon_intensity?zone=${randomZone()}` }),
  () => ({ path: `/carbon_intensity/history?zone=${randomZone()}` }),
  (models) => chat(randomModel(models)),
  () => post('/predict', { activity: `${one(ACTIVITIES)} ${'z'.repeat(randomInt(400))}` }),
  // Long values where a label could take them: a query string, a header, an odd method.
  () => ({ path: `/healthz?${'q'.repeat(randomInt(6000))}` }),
  () => ({ path: '/energy', headers: { 'x-long': 'h'.repeat(randomInt(8000)) } }),
  () => oddMethodLongPath(),
];

/**
 * A picker over the weighted mix; one request in `randomShare` is drawn anew (random path, zone,
 * model, long value).
 */
export function mixPicker(models: readonly string[], randomShare = 0.1): () => LoadRequest {
  const pool: LoadRequest[] = [];
  for (const [request, weight] of requestMix(models)) {
    for (let i = 0; i < weight; i++) pool.push(request);
  }
  return () => (Math.random() < randomShare ? one(RANDOM_KINDS)(models) : one(pool));
}

/**
 * Paths the app without carbonscope (test/bench/bare-app.ts) does not serve: carbonscope's own
 * endpoints and /chat, whose footprint is what it adds to a completion.
 */
const CARBONSCOPE_ONLY = /^\/(metrics|energy|dashboard|chat)(\/|\?|$)/;

/** True for a request both the app and the app without carbonscope answer alike. */
export function servedByBoth(request: LoadRequest): boolean {
  return !CARBONSCOPE_ONLY.test(request.path);
}

/** mixPicker, drawing only requests both apps answer alike (for comparing them). */
export function sharedMixPicker(models: readonly string[]): () => LoadRequest {
  const pick = mixPicker(models);
  return () => {
    for (;;) {
      const request = pick();
      if (servedByBoth(request)) return request;
    }
  };
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

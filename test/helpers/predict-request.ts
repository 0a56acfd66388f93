/** `POST /predict` as an API client sends it: an activity in JSON, JSON asked for. */
export function postActivity(baseUrl: string, activity = 'driving 10 hours'): Promise<Response> {
  return fetch(`${baseUrl}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ activity }),
  });
}

/**
 * A comma-separated variable's items as the OTel SDK reads its own (@opentelemetry/core's
 * getStringListFromEnv): each trimmed, an empty one dropped (`tracecontext,baggage,` is two), so
 * what the service checks is what NodeSDK will act on.
 */
export function envList(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

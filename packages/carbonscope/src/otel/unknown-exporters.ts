import { nearestName } from '../nearest-name.js';

/** The values of OTEL_METRICS_EXPORTER that register's own SDK knows. */
export const KNOWN_EXPORTERS: readonly string[] = ['otlp', 'prometheus', 'console', 'none'];

/**
 * One warning per exporter of `exporters` that register does not know, with the one it likely
 * meant. Where none is left, the line says what follows: a slip of the only exporter
 * (`prometheous`) exported nothing, and the line said only "ignored".
 */
export function unknownExporterLines(exporters: readonly string[]): string[] {
  const unknown = exporters.filter((e) => !KNOWN_EXPORTERS.includes(e));
  const noneLeft = unknown.length === exporters.length;
  return unknown.map((exporter) => {
    const meant = nearestName(exporter, KNOWN_EXPORTERS);
    const hint = meant ? ` (did you mean ${meant}?)` : '';
    const effect = noneLeft
      ? `: no metrics are exported; it takes ${KNOWN_EXPORTERS.join(', ')}`
      : ' ignored';
    return `OTEL_METRICS_EXPORTER: unknown exporter "${exporter}"${hint}${effect}`;
  });
}

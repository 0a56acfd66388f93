/** How a figure a page shows was had: the same facts the JSON answer gives as flags. */
export interface FigureFacts {
  /** A model gave the energy (the estimate source), not a meter. */
  estimated: boolean;
  /**
   * Its last part priced at the previous sample's rate, as the answer left: the metrics, spans
   * and dashboard carry the settled figure, which can differ from it (see "Per operation").
   */
  provisional: boolean;
}

/** The words after a figure on a page, with their leading space: ` (estimated; provisional, …)`. */
export function figureLabel(f: FigureFacts): string {
  const words = [
    ...(f.estimated ? ['estimated'] : []),
    ...(f.provisional ? ['provisional, settled at the next sample'] : []),
  ];
  return words.length ? ` (${words.join('; ')})` : '';
}

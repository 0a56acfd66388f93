/** The classes, in the order of the model's output columns. Changing it changes the model. */
export const LABELS = ['low', 'middle', 'high'] as const;

export type Label = (typeof LABELS)[number];

export function isLabel(value: unknown): value is Label {
  return typeof value === 'string' && (LABELS as readonly string[]).includes(value);
}

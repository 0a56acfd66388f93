/** Whether decodeURIComponent decodes `text`: what src/http/form-escapes.ts stands in for. */
export function uriDecodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The `message` of a `google.rpc.Status` in protobuf (OTLP/HTTP's error body): field 2, a
 * string; field 1 (the code) and 3 (details) are skipped. Undefined where the bytes are no such
 * message (a wire type it cannot skip, a length past the end, a key past 32 bits, no message).
 * Written here, not taken from the exporters: their protobuf reader is internal to
 * @opentelemetry/otlp-transformer, not in its exports and not in every version the peer range
 * allows.
 */
export function statusMessage(bytes: Uint8Array): string | undefined {
  let at = 0;
  let message: string | undefined;
  const varint = (): number | undefined => {
    let value = 0;
    // Up to ten bytes: an int32 below 0 (a code) is written sign-extended to 64 bits.
    for (let shift = 0; shift < 70 && at < bytes.length; shift += 7) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return undefined;
  };
  while (at < bytes.length) {
    const key = varint();
    // A key is 32 bits at most: `>>> 3` of a longer one would read another field's number.
    if (key === undefined || key > 0xffffffff) return undefined;
    const wire = key & 7;
    if (wire === 0) {
      if (varint() === undefined) return undefined;
    } else if (wire === 2) {
      const length = varint();
      if (length === undefined || at + length > bytes.length) return undefined;
      if (key >>> 3 === 2) message = new TextDecoder().decode(bytes.subarray(at, at + length));
      at += length;
    } else {
      return undefined;
    }
  }
  return message;
}

/** A protobuf field as the readers here take it: a varint's value, or a length's bytes. */
export interface ProtoField {
  readonly field: number;
  readonly varint?: number;
  readonly bytes?: Uint8Array;
}

/**
 * The top-level fields of a protobuf message, in order. Undefined where the bytes are no such
 * message (a wire type it cannot skip, a length past the end, a key past 32 bits). Written here,
 * not taken from the exporters: their protobuf reader is internal to
 * @opentelemetry/otlp-transformer, not in its exports and not in every version the peer range
 * allows.
 */
export function protoFields(bytes: Uint8Array): ProtoField[] | undefined {
  let at = 0;
  const fields: ProtoField[] = [];
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
    const field = key >>> 3;
    if (wire === 0) {
      const value = varint();
      if (value === undefined) return undefined;
      fields.push({ field, varint: value });
    } else if (wire === 2) {
      const length = varint();
      if (length === undefined || at + length > bytes.length) return undefined;
      fields.push({ field, bytes: bytes.subarray(at, at + length) });
      at += length;
    } else {
      return undefined;
    }
  }
  return fields;
}

/** The last of `fields` numbered `field` whose value is bytes, read as UTF-8. */
export function protoString(fields: readonly ProtoField[], field: number): string | undefined {
  const found = fields.findLast((f) => f.field === field && f.bytes !== undefined)?.bytes;
  return found === undefined ? undefined : new TextDecoder().decode(found);
}

/**
 * The `message` of a `google.rpc.Status` in protobuf (OTLP/HTTP's error body): field 2, a
 * string; field 1 (the code) and 3 (details) are skipped. Undefined where the bytes are no such
 * message, or it has none.
 */
export function statusMessage(bytes: Uint8Array): string | undefined {
  const fields = protoFields(bytes);
  return fields && protoString(fields, 2);
}

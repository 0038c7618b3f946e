/**
 * Ternary codes packed four to a byte, two bits each, the first code in the lowest bits:
 *
 *   byte j holds codes 4j (bits 0-1), 4j+1 (bits 2-3), 4j+2 (bits 4-5), 4j+3 (bits 6-7)
 *   0b00 = 0, 0b01 = +1, 0b10 = −1, 0b11 is invalid (a corrupt file)
 *
 * The last byte is padded with 0b00 codes when the count is not a multiple of four.
 */

export const packedBytes = (count: number): number => Math.ceil(count / 4);

export function packCodes(codes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(packedBytes(codes.length));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    let bits: number;
    if (c === 0) bits = 0;
    else if (c === 1) bits = 1;
    else if (c === -1) bits = 2;
    else throw new Error(`ternary code ${c} at ${i} is not -1, 0 or 1`);
    out[i >> 2] |= bits << ((i & 3) * 2);
  }
  return out;
}

/** Unpacks `count` codes; throws on the invalid pattern 0b11 or on too few bytes. */
export function unpackCodes(bytes: Uint8Array, count: number): Int8Array {
  if (bytes.length < packedBytes(count)) throw new Error(`packed codes: ${bytes.length} bytes hold fewer than ${count} codes`);
  const out = new Int8Array(count);
  for (let i = 0; i < count; i++) {
    const bits = (bytes[i >> 2] >> ((i & 3) * 2)) & 3;
    if (bits === 3) throw new Error(`packed codes: invalid pattern 0b11 at code ${i}`);
    out[i] = bits === 2 ? -1 : bits;
  }
  return out;
}

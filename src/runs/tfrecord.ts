/**
 * TFRecord framing, the container of TensorBoard event files: each record is
 *
 *   uint64 length (little-endian) · uint32 masked_crc(length bytes) · data · uint32 masked_crc(data)
 *
 * with CRC-32C (Castagnoli) masked as `((c >>> 15) | (c << 17)) + 0xa282ead8` (mod 2³²), which
 * TensorFlow applies so that a CRC of data that holds CRCs stays well distributed.
 */
import { crc32c } from '@aws-crypto/crc32c';

/** The masked CRC-32C TFRecord stores. */
export function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data) >>> 0;
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One record: header, data and footer in one buffer (so it is appended in one write). */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/**
 * AEDAT event files: a text header of lines starting with '#', then binary events. Two
 * versions are read, chosen by the first header line:
 *
 * AEDAT 2.0 (`#!AER-DAT2.0`, also assumed when there is no version line): the form CIFAR10-DVS
 * is published in. Each event is 8 bytes, big-endian: a 32-bit address, then a 32-bit
 * timestamp in microseconds. The address follows jAER's DVS128 layout:
 *
 *     bit  0       polarity
 *     bits 1-7     x (0..127)          mask 0x00FE, shift 1
 *     bits 8-14    y (0..127)          mask 0x7F00, shift 8
 *
 * These are the masks SpikingJelly's CIFAR10DVS reader passes to its AEDAT parser (x_mask 0xFE
 * / shift 1, y_mask 0x7F00 / shift 8, polarity_mask 1); a 128-pixel sensor needs exactly 7 bits
 * per coordinate, which fits them. Higher bits (jAER's special-event flag among them) are
 * ignored there, and here too. The orientation CIFAR10-DVS applies on top is in cifar10Dvs.ts.
 *
 * AEDAT 3.x (`#!AER-DAT3.1`): the header ends with `#!END-HEADER`; then packets, each a 28-byte
 * little-endian header (eventType i16, eventSource i16, eventSize i32, eventTSOffset i32,
 * eventTSOverflow i32, eventCapacity i32, eventNumber i32, eventValid i32) followed by
 * eventCapacity events of eventSize bytes. Polarity events (type 1) are a 32-bit data word
 * (bit 0 valid, bit 1 polarity, bits 2-16 y, bits 17-31 x) and a 32-bit timestamp, whose full
 * value is eventTSOverflow * 2^31 + timestamp. Other packet types and invalid events are skipped.
 *
 * Decoded events are in file order with raw sensor coordinates.
 */
import { UserError } from '../util/errors.js';

export interface Events {
  x: Uint16Array;
  y: Uint16Array;
  /** The polarity bit as stored (0 or 1); which of ON/OFF is 1 is the recording software's convention. */
  p: Uint8Array;
  /** Microseconds. Float64 so that AEDAT 3's overflow counter fits exactly. */
  t: Float64Array;
  count: number;
}

export type AedatVersion = '2.0' | '3.1';

const HASH = 0x23;
const NEWLINE = 0x0a;
const PACKET_HEADER = 28;
const POLARITY_EVENT = 1;

/** The version line's value and where the binary part starts. */
export function readAedatHeader(bytes: Uint8Array, file: string): { version: AedatVersion; dataStart: number } {
  let pos = 0;
  let version: AedatVersion | null = null;
  let first = true;
  while (pos < bytes.length && bytes[pos] === HASH) {
    const end = bytes.indexOf(NEWLINE, pos);
    if (end < 0) throw new UserError(`${file} is truncated: its header has no end of line`);
    const line = Buffer.from(bytes.buffer, bytes.byteOffset + pos, end - pos).toString('latin1').trim();
    pos = end + 1;
    if (first) {
      const m = /^#!AER-DAT(\d+\.\d+)/.exec(line);
      if (m) {
        if (m[1] === '2.0') version = '2.0';
        else if (m[1].startsWith('3.')) version = '3.1';
        else throw new UserError(`${file} is AEDAT ${m[1]}; only AEDAT 2.0 and 3.x are read`);
      }
      first = false;
    }
    // AEDAT 3 ends its header explicitly; its binary part may then start with any byte.
    if (line === '#!END-HEADER') break;
  }
  return { version: version ?? '2.0', dataStart: pos };
}

function decode2(bytes: Uint8Array, start: number, file: string): Events {
  const body = bytes.length - start;
  if (body % 8 !== 0) {
    throw new UserError(`${file} is truncated: ${body} bytes of events is not a whole number of 8-byte AEDAT 2.0 events`);
  }
  const count = body / 8;
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, body);
  const ev = allocate(count);
  for (let i = 0; i < count; i++) {
    const addr = view.getUint32(8 * i, false);
    ev.x[i] = (addr & 0xfe) >>> 1;
    ev.y[i] = (addr & 0x7f00) >>> 8;
    ev.p[i] = addr & 1;
    ev.t[i] = view.getUint32(8 * i + 4, false);
  }
  return ev;
}

function decode3(bytes: Uint8Array, start: number, file: string): Events {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  // First pass: validate packet bounds and count polarity events, so arrays are allocated once.
  const packets: { at: number; size: number; tsOffset: number; overflow: number; capacity: number }[] = [];
  let total = 0;
  let pos = start;
  while (pos < bytes.length) {
    if (pos + PACKET_HEADER > bytes.length) {
      throw new UserError(`${file} is truncated: a packet header at byte ${pos} needs ${PACKET_HEADER} bytes, ${bytes.length - pos} remain`);
    }
    const type = view.getInt16(pos, true);
    const size = view.getInt32(pos + 4, true);
    const tsOffset = view.getInt32(pos + 8, true);
    const overflow = view.getInt32(pos + 12, true);
    const capacity = view.getInt32(pos + 16, true);
    if (size <= 0 || capacity < 0) throw new UserError(`${file}: packet at byte ${pos} has event size ${size} and capacity ${capacity}`);
    const end = pos + PACKET_HEADER + size * capacity;
    if (end > bytes.length) {
      throw new UserError(`${file} is truncated: a packet at byte ${pos} holds ${size * capacity} bytes of events, ${bytes.length - pos - PACKET_HEADER} remain`);
    }
    if (type === POLARITY_EVENT) {
      if (size < 8 || tsOffset < 0 || tsOffset + 4 > size) throw new UserError(`${file}: polarity packet at byte ${pos} has event size ${size}, timestamp offset ${tsOffset}`);
      packets.push({ at: pos + PACKET_HEADER, size, tsOffset, overflow, capacity });
      total += capacity;
    }
    pos = end;
  }
  const ev = allocate(total);
  let n = 0;
  for (const pk of packets) {
    const high = pk.overflow * 2 ** 31;
    for (let i = 0; i < pk.capacity; i++) {
      const at = pk.at + i * pk.size;
      const data = view.getUint32(at, true);
      if ((data & 1) === 0) continue; // invalid (filtered-out) event
      ev.x[n] = data >>> 17;
      ev.y[n] = (data >>> 2) & 0x7fff;
      ev.p[n] = (data >>> 1) & 1;
      ev.t[n] = high + view.getInt32(at + pk.tsOffset, true);
      n++;
    }
  }
  return { x: ev.x.subarray(0, n), y: ev.y.subarray(0, n), p: ev.p.subarray(0, n), t: ev.t.subarray(0, n), count: n };
}

function allocate(count: number): Events {
  return { x: new Uint16Array(count), y: new Uint16Array(count), p: new Uint8Array(count), t: new Float64Array(count), count };
}

/** Decodes an AEDAT file's bytes; `file` names it in errors. */
export function decodeAedat(bytes: Uint8Array, file: string): Events & { version: AedatVersion } {
  const { version, dataStart } = readAedatHeader(bytes, file);
  const ev = version === '2.0' ? decode2(bytes, dataStart, file) : decode3(bytes, dataStart, file);
  return { ...ev, version };
}

/** AEDAT 2.0 bytes for raw events (tests, fixtures): a header, then address/timestamp pairs. */
export function encodeAedat2(ev: { x: ArrayLike<number>; y: ArrayLike<number>; p: ArrayLike<number>; t: ArrayLike<number> }, header: readonly string[] = []): Uint8Array {
  const head = Buffer.from(['#!AER-DAT2.0', ...header].map((l) => `${l}\r\n`).join(''), 'latin1');
  const n = ev.x.length;
  const out = new Uint8Array(head.length + 8 * n);
  out.set(head, 0);
  const view = new DataView(out.buffer, head.length);
  for (let i = 0; i < n; i++) {
    view.setUint32(8 * i, ((ev.y[i] & 0x7f) << 8) | ((ev.x[i] & 0x7f) << 1) | (ev.p[i] & 1), false);
    view.setUint32(8 * i + 4, ev.t[i], false);
  }
  return out;
}

/**
 * AEDAT 3.1 bytes for raw events in one polarity packet (tests). `invalid` marks events written
 * with the valid bit clear; `overflow` is the packet's timestamp overflow counter.
 */
export function encodeAedat31(
  ev: { x: ArrayLike<number>; y: ArrayLike<number>; p: ArrayLike<number>; t: ArrayLike<number> },
  opts: { overflow?: number; invalid?: ReadonlySet<number> } = {},
): Uint8Array {
  const head = Buffer.from('#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n', 'latin1');
  const n = ev.x.length;
  const out = new Uint8Array(head.length + PACKET_HEADER + 8 * n);
  out.set(head, 0);
  const view = new DataView(out.buffer, head.length);
  view.setInt16(0, POLARITY_EVENT, true);
  view.setInt16(2, 1, true);
  view.setInt32(4, 8, true);
  view.setInt32(8, 4, true);
  view.setInt32(12, opts.overflow ?? 0, true);
  view.setInt32(16, n, true);
  view.setInt32(20, n, true);
  view.setInt32(24, n - (opts.invalid?.size ?? 0), true);
  for (let i = 0; i < n; i++) {
    const valid = opts.invalid?.has(i) ? 0 : 1;
    const data = ((ev.x[i] << 17) | ((ev.y[i] & 0x7fff) << 2) | ((ev.p[i] & 1) << 1) | valid) >>> 0;
    view.setUint32(PACKET_HEADER + 8 * i, data, true);
    view.setInt32(PACKET_HEADER + 8 * i + 4, ev.t[i], true);
  }
  return out;
}

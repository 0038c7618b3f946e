/** Writers of small CIFAR10-DVS-style event files for the tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR10_DVS_CLASSES } from '../src/data/cifar10Dvs.js';

export interface RawEvent {
  x: number;
  y: number;
  p: number;
  t: number;
}

/** The header the published CIFAR10-DVS files carry, then big-endian (address, timestamp) pairs. */
export function aedat2(events: RawEvent[]): Buffer {
  const head = Buffer.from(
    '#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n' +
      '# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event\r\n' +
      '# Timestamps tick is 1 us\r\n',
    'latin1',
  );
  const body = Buffer.alloc(8 * events.length);
  events.forEach((e, i) => {
    body.writeUInt32BE(e.y * 256 + e.x * 2 + e.p, 8 * i); // y bits 8-14, x bits 1-7, polarity bit 0
    body.writeUInt32BE(e.t, 8 * i + 4);
  });
  return Buffer.concat([head, body]);
}

/** A CIFAR10-DVS folder: `perClass` files per class, each a few events at class-dependent pixels. */
export function writeDvsFolder(dir: string, perClass: number): void {
  CIFAR10_DVS_CLASSES.forEach((c, label) => {
    mkdirSync(join(dir, c), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const events: RawEvent[] = [];
      for (let k = 0; k < 6; k++) events.push({ x: (label * 12 + k) % 128, y: (i * 5 + k) % 128, p: k % 2, t: 1000 * k + i });
      writeFileSync(join(dir, c, `cifar10_${c}_${i}.aedat`), aedat2(events));
    }
  });
}


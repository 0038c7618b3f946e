/** Opcodes of the fast runtime's programs; the same numbers as native/ternary/core.h's enum. */
export const OP = {
  FILL: 1,
  FILL64: 2,
  FCONV: 3,
  TCONV: 4,
  NEURON: 5,
  ADD: 6,
  IAND: 7,
  MEAN: 8,
  MAXPOOL: 9,
  AVGPOOL: 10,
  PACK: 11,
  TACC: 12,
  TFIN: 13,
  FLINB: 14,
} as const;

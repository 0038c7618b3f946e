/* The neuron update of the runtime kernels (included by core.h): src/snn/lif.ts's maths, the reference's arithmetic. */
/* The neuron of one layer: src/snn/lif.ts's update, as the reference computes it. */
typedef struct {
  float *v;
  int leak, hard;
  double k, vth, vr;
} tr_neuron;

/*
 * One neuron update per value of a row: the spike (0/1) into s. Branch-free (spikes are random,
 * a branch per value mispredicts) so that it vectorises; the same arithmetic as the reference.
 */
/* f ? a : b without a branch (bit masks), so the loops below vectorise. */
static inline float tr_select(int f, float a, float b) {
  union { float f; uint32_t u; } x, y;
  x.f = a;
  y.f = b;
  const uint32_t m = 0u - (uint32_t)f;
  x.u = (x.u & m) | (y.u & ~m);
  return x.f;
}

#define TR_FIRE_LOOP(CHARGE, AFTER)                    \
  for (int i = 0; i < m; i++) {                        \
    const double vi = (double)v[i];                    \
    const double h = CHARGE;                           \
    const int f = h >= vth;                            \
    v[i] = tr_select(f, (AFTER), (float)h);            \
    s[i] = (uint8_t)f;                                 \
    count += f;                                        \
  }

static inline int tr_fire_row(const tr_neuron *n, float *__restrict v, const float *__restrict x, uint8_t *__restrict s, int m) {
  int count = 0;
  const double vth = n->vth, vr = n->vr, k = n->k;
  const float vrf = (float)vr;
  if (n->leak && n->hard) TR_FIRE_LOOP(vi + ((double)x[i] - (vi - vr)) * k, vrf)
  else if (n->leak) TR_FIRE_LOOP(vi + ((double)x[i] - (vi - vr)) * k, (float)(h - vth))
  else if (n->hard) TR_FIRE_LOOP(vi + (double)x[i], vrf)
  else TR_FIRE_LOOP(vi + (double)x[i], (float)(h - vth))
  return count;
}

/* Spikes s[0..m) as bits (word j holds s[64j … 64j+63]) and/or floats. */
static inline void tr_emit_spikes(const uint8_t *s, int m, uint64_t *bits, float *f) {
  if (bits) {
    for (int j = 0; j < (m + 63) / 64; j++) {
      uint64_t w = 0;
      const int e = m - 64 * j < 64 ? m - 64 * j : 64;
      for (int b = 0; b < e; b++) w |= (uint64_t)s[64 * j + b] << b;
      bits[j] = w;
    }
  }
  if (f) for (int i = 0; i < m; i++) f[i] = (float)s[i];
}

/* Widest row (output channels, or channels of a neuron layer) the kernels take; checked by the host. */
#define TR_MAX_ROW 8192


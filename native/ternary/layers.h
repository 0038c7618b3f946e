/* The layer kernels of the runtime (included by core.h): float and ternary convolutions, neurons, pooling. */
/*
 * Float convolution (stem, float layers, and ternary layers whose input is not binary, then
 * with the codes as ±1.0 weights). x [N,H,W,C], w [K,K,C,O]; acc starts at bias (no scale) or
 * 0 (scale given: y = acc·scale + bias). Accumulates in float32 over (kh, kw, c), skipping
 * zero inputs: the reference's order. Linear layers are the case H = W = K = 1.
 */
static void tr_fconv(const double *a) {
  const float *x = AT(float, a[0]), *w = AT(float, a[1]), *bias = AT(float, a[2]);
  const float *scale = OPT(float, a[3]);
  float *y = AT(float, a[4]);
  const int N = (int)a[5], H = (int)a[6], W = (int)a[7], C = (int)a[8], O = (int)a[9];
  const int OH = (int)a[10], OW = (int)a[11], K = (int)a[12], S = (int)a[13], P = (int)a[14];
  const int rows = N * OH;
  TR_PARALLEL_FOR((double)rows * OW * K * K * C * O)
  for (int r = 0; r < rows; r++) {
    const int n = r / OH, oh = r % OH;
    for (int ow = 0; ow < OW; ow++) {
      float *acc = y + (((size_t)n * OH + oh) * OW + ow) * O;
      for (int o = 0; o < O; o++) acc[o] = scale ? 0.0f : bias[o];
      for (int kh = 0; kh < K; kh++) {
        const int ih = oh * S - P + kh;
        if (ih < 0 || ih >= H) continue;
        for (int kw = 0; kw < K; kw++) {
          const int iw = ow * S - P + kw;
          if (iw < 0 || iw >= W) continue;
          const float *xp = x + (((size_t)n * H + ih) * W + iw) * C;
          const float *wt = w + (size_t)(kh * K + kw) * C * O;
          for (int c = 0; c < C; c++) {
            const float v = xp[c];
            if (v == 0.0f) continue;
            const float *wr = wt + (size_t)c * O;
            for (int o = 0; o < O; o++) acc[o] = (float)((double)acc[o] + (double)v * (double)wr[o]);
          }
        }
      }
      if (scale)
        for (int o = 0; o < O; o++) acc[o] = (float)((double)acc[o] * (double)scale[o] + (double)bias[o]);
    }
  }
}

/*
 * Ternary convolution of bit-packed spikes. x [N,H,W,Cw] words; wp, wm [G][K·K·Cw][8] words
 * (G = ⌈O/8⌉, the 8 outputs of a group interleaved). Epilogue per output: pre =
 * float(sum·scale + bias), then + res (float, optional); written to y (optional); fed to the
 * neuron (optional: v non-zero), whose spikes go to sbits [N,OH,OW,⌈O/64⌉] and/or sfloat.
 * Returns the spike count.
 */
static double tr_tconv(const double *a) {
  const uint64_t *x = AT(uint64_t, a[0]), *wp = AT(uint64_t, a[1]), *wm = AT(uint64_t, a[2]);
  const float *scale = AT(float, a[3]), *bias = AT(float, a[4]);
  const int N = (int)a[5], H = (int)a[6], W = (int)a[7], Cw = (int)a[8], O = (int)a[9];
  const int OH = (int)a[10], OW = (int)a[11], K = (int)a[12], S = (int)a[13], P = (int)a[14];
  const float *res = OPT(float, a[15]);
  float *y = OPT(float, a[16]);
  tr_neuron nr = {OPT(float, a[17]), (int)a[18], (int)a[19], a[20], a[21], a[22]};
  uint64_t *sbits = OPT(uint64_t, a[23]);
  float *sfloat = OPT(float, a[24]);
  const int L = K * K * Cw, G = (O + 7) / 8, Ow = (O + 63) / 64;
  const int direct = K == 1 && S == 1 && P == 0;
  const int rows = N * OH;
  double spikes = 0;
  TR_PARALLEL_FOR_REDUCE((double)rows * OW * L * O / 32)
  for (int r = 0; r < rows; r++) {
    const int n = r / OH, oh = r % OH;
    uint64_t patch[TR_MAX_PATCH];
    int32_t acc[TR_MAX_ROW + 8];
    float yrow[TR_MAX_ROW];
    uint8_t srow[TR_MAX_ROW];
    /* Positions in chunks of Q: the epilogue and the neuron run over Q·O contiguous values. */
    const int O8 = 8 * G, Q = TR_MAX_ROW / O8 < 1 ? 1 : TR_MAX_ROW / O8;
    for (int ow0 = 0; ow0 < OW; ow0 += Q) {
      const int q1 = OW - ow0 < Q ? OW - ow0 : Q;
      for (int q = 0; q < q1; q++) {
        const int ow = ow0 + q;
        const uint64_t *pp = patch;
        if (direct) pp = x + (((size_t)n * H + oh) * W + ow) * Cw;
        else {
          for (int kh = 0; kh < K; kh++) {
            const int ih = oh * S - P + kh;
            for (int kw = 0; kw < K; kw++) {
              const int iw = ow * S - P + kw;
              uint64_t *dst = patch + (kh * K + kw) * Cw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
                for (int j = 0; j < Cw; j++) dst[j] = 0;
              } else {
                const uint64_t *src = x + (((size_t)n * H + ih) * W + iw) * Cw;
                for (int j = 0; j < Cw; j++) dst[j] = src[j];
              }
            }
          }
        }
        for (int g = 0; g < G; g++) tr_dot8(pp, L, wp + (size_t)g * L * 8, wm + (size_t)g * L * 8, acc + q * O8 + 8 * g);
      }
      const size_t pos0 = ((size_t)n * OH + oh) * OW + ow0;
      float *pre = y ? y + pos0 * O : yrow;
      for (int q = 0; q < q1; q++)
        for (int o = 0; o < O; o++) pre[q * O + o] = (float)((double)acc[q * O8 + o] * (double)scale[o] + (double)bias[o]);
      if (res) {
        const float *r0 = res + pos0 * O;
        for (int i = 0; i < q1 * O; i++) pre[i] = pre[i] + r0[i];
      }
      if (nr.v) {
        spikes += tr_fire_row(&nr, nr.v + pos0 * O, pre, srow, q1 * O);
        for (int q = 0; q < q1; q++)
          tr_emit_spikes(srow + q * O, O, sbits ? sbits + (pos0 + q) * Ow : (uint64_t *)0, sfloat ? sfloat + (pos0 + q) * O : (float *)0);
      }
    }
  }
  return spikes;
}

/* Neuron layer over M positions of C channels: float input x; spikes to sbits [M,⌈C/64⌉] and/or sfloat. */
static double tr_neuron_layer(const double *a) {
  const float *x = AT(float, a[0]);
  tr_neuron nr = {AT(float, a[1]), (int)a[4], (int)a[5], a[6], a[7], a[8]};
  const int M = (int)a[2], C = (int)a[3];
  uint64_t *sbits = OPT(uint64_t, a[9]);
  float *sfloat = OPT(float, a[10]);
  const int Cw = (C + 63) / 64;
  double spikes = 0;
  /* Rows in chunks of Q, so that the neuron loop runs over Q·C contiguous values. */
  const int Q = TR_MAX_ROW / C < 1 ? 1 : TR_MAX_ROW / C;
  const int chunks = (M + Q - 1) / Q;
  TR_PARALLEL_FOR_REDUCE((double)M * C * 8)
  for (int ch = 0; ch < chunks; ch++) {
    uint8_t srow[TR_MAX_ROW];
    const int m0 = ch * Q, q1 = M - m0 < Q ? M - m0 : Q;
    const size_t i = (size_t)m0 * C;
    spikes += tr_fire_row(&nr, nr.v + i, x + i, srow, q1 * C);
    for (int q = 0; q < q1; q++)
      tr_emit_spikes(srow + q * C, C, sbits ? sbits + (size_t)(m0 + q) * Cw : (uint64_t *)0, sfloat ? sfloat + i + (size_t)q * C : (float *)0);
  }
  return spikes;
}

/* Float linear layer on bit-packed spikes x [N,P,Cw]: acc = bias, then + w[i] for every input i = p·C + c that fired, in order. */
static void tr_flinb(const double *a) {
  const uint64_t *x = AT(uint64_t, a[0]);
  const float *w = AT(float, a[1]), *bias = AT(float, a[2]);
  float *y = AT(float, a[3]);
  const int N = (int)a[4], P = (int)a[5], C = (int)a[6], O = (int)a[7];
  const int Cw = (C + 63) / 64;
  TR_PARALLEL_FOR((double)N * P * C * O / 8)
  for (int n = 0; n < N; n++) {
    float *acc = y + (size_t)n * O;
    for (int o = 0; o < O; o++) acc[o] = bias[o];
    for (int p = 0; p < P; p++) {
      for (int j = 0; j < Cw; j++) {
        uint64_t word = x[((size_t)n * P + p) * Cw + j];
        while (word) {
          const int c = 64 * j + __builtin_ctzll(word);
          word &= word - 1;
          const float *wr = w + ((size_t)p * C + c) * O;
          for (int o = 0; o < O; o++) acc[o] = acc[o] + wr[o];
        }
      }
    }
  }
}

static void tr_maxpool(const double *a) {
  const float *x = AT(float, a[0]);
  float *y = AT(float, a[1]);
  const int N = (int)a[2], H = (int)a[3], W = (int)a[4], C = (int)a[5], OH = (int)a[6], OW = (int)a[7];
  const int K = (int)a[8], S = (int)a[9], P = (int)a[10];
  for (int n = 0; n < N; n++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++)
        for (int c = 0; c < C; c++) {
          float best = -__builtin_inff();
          for (int kh = 0; kh < K; kh++) {
            const int ih = oh * S - P + kh;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < K; kw++) {
              const int iw = ow * S - P + kw;
              if (iw < 0 || iw >= W) continue;
              const float v = x[(((size_t)n * H + ih) * W + iw) * C + c];
              if (v > best) best = v;
            }
          }
          y[(((size_t)n * OH + oh) * OW + ow) * C + c] = best;
        }
}


/**
 * Surrogate gradients: the derivative used in place of the Heaviside step's (zero almost
 * everywhere) when back-propagating through a spike `S = Θ(x)`, with `x = H - V_th`.
 *
 * Each surrogate is the derivative of a smooth step `g(x)` that tends to Θ(x); `alpha` sets the
 * sharpness. All four integrate to 1 over the real line, so they all pass the same total
 * gradient as the step they stand in for.
 *
 * - sigmoid:   g'(x) = α σ(αx) (1 - σ(αx))                 (default α = 4; SpikingJelly's Sigmoid)
 * - atan:      g'(x) = α / (2 (1 + (π/2 · α x)²))            (default α = 2; SpikingJelly's ATan)
 * - rectangle: g'(x) = 1/α if |x| < α/2 else 0             (default α = 1: a box of width α, as
 *              STBP's rectangular h(u) of Wu et al. 2018, with a = α)
 * - triangle:  g'(x) = max(0, α − α²|x|)                   (default α = 1; SpikingJelly's
 *              PiecewiseQuadratic: α is a sharpness, the triangle's half-width is 1/α, its peak α)
 *
 * For the rectangle α is a width; for the other three a sharpness (larger α: a narrower, taller
 * derivative).
 */
import type { SurrogateConfig } from '../config/schema.js';

export type SurrogateName = SurrogateConfig['name'];

export const SURROGATE_DEFAULT_ALPHA: Record<SurrogateName, number> = {
  sigmoid: 4,
  atan: 2,
  rectangle: 1,
  triangle: 1,
};

/** The surrogate derivative g'(x) as a scalar function. */
export type SurrogateFn = (x: number) => number;

export function surrogateDerivative(name: SurrogateName, alpha?: number | null): SurrogateFn {
  const a = alpha ?? SURROGATE_DEFAULT_ALPHA[name];
  switch (name) {
    case 'sigmoid':
      return (x) => {
        const s = 1 / (1 + Math.exp(-a * x));
        return a * s * (1 - s);
      };
    case 'atan': {
      const k = (Math.PI / 2) * a;
      return (x) => a / (2 * (1 + k * x * k * x));
    }
    case 'rectangle': {
      const half = a / 2;
      const h = 1 / a;
      return (x) => (Math.abs(x) < half ? h : 0);
    }
    case 'triangle':
      return (x) => Math.max(0, a - a * a * Math.abs(x));
  }
}

/**
 * The smooth step g(x) whose derivative is the surrogate; used by gradient checks that
 * replace Θ with g and compare finite differences with the surrogate gradient.
 */
export function surrogatePrimitive(name: SurrogateName, alpha?: number | null): SurrogateFn {
  const a = alpha ?? SURROGATE_DEFAULT_ALPHA[name];
  switch (name) {
    case 'sigmoid':
      return (x) => 1 / (1 + Math.exp(-a * x));
    case 'atan':
      return (x) => Math.atan((Math.PI / 2) * a * x) / Math.PI + 0.5;
    case 'rectangle':
      return (x) => Math.min(1, Math.max(0, x / a + 0.5));
    case 'triangle':
      // SpikingJelly's PiecewiseQuadratic primitive: −(α²/2)|x|x + αx + 1/2 on |x| ≤ 1/α.
      return (x) => {
        const u = Math.min(1 / a, Math.max(-1 / a, x));
        return -((a * a) / 2) * Math.abs(u) * u + a * u + 0.5;
      };
  }
}

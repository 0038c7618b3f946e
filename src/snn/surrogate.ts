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
 * - rectangle: g'(x) = 1/α if |x| < α/2 else 0             (default α = 1: a box of width 1)
 * - triangle:  g'(x) = max(0, α - |x|) / α²                 (default α = 1: a triangle of half-width 1)
 *
 * The rectangle and triangle parametrisations (width α) are this project's choice; the design
 * names the shapes but not their parameters.
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
    case 'triangle': {
      const inv = 1 / (a * a);
      return (x) => Math.max(0, a - Math.abs(x)) * inv;
    }
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
      return (x) => {
        const u = Math.min(a, Math.max(-a, x));
        return u < 0 ? (a + u) * (a + u) / (2 * a * a) : 1 - (a - u) * (a - u) / (2 * a * a);
      };
  }
}

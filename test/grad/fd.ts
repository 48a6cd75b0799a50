/**
 * Helpers for the gradient checks: a seeded generator independent of the library's own RNG,
 * float32-rounded data generators that keep FD points away from kinks, central differences and a
 * comparison that names the worst element.
 */
export type F64 = Float64Array;

/** mulberry32: uniform [0, 1). */
export function rand(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Generates n float32-representable values (so float64 references see the kernels' inputs). */
export type Gen = (n: number, r: () => number) => Float32Array;

export const uniform = (lo = -1, hi = 1): Gen => (n, r) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());

/** |v| >= 0.1: keeps relu / leakyRelu away from their kink at 0. */
export const awayFromZero: Gen = (n, r) => Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (0.1 + r()));

/**
 * A random permutation of evenly spaced values (gap 1/16 before scaling, exact in float32): no two
 * entries of a max / min window tie, and the gap dwarfs the FD step, so the arg-extreme never flips.
 */
export const distinct: Gen = (n, r) => {
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) / 16);
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [v[i], v[j]] = [v[j], v[i]]; }
  return Float32Array.from(v);
};

/** Positive values in [lo, hi): divisors, variances. */
export const positive = (lo = 0.5, hi = 1.5): Gen => uniform(lo, hi);

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Central differences of the scalar objective f at x[idx] for each idx in `which`:
 * (f(x + h e_i) - f(x - h e_i)) / 2h. x is restored afterwards.
 */
export function centralDiff(f: () => number, x: Float64Array | Float32Array, which: number[], h: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const i of which) {
    const v = x[i];
    x[i] = v + h;
    const fp = f();
    x[i] = v - h;
    const fm = f();
    x[i] = v;
    out.set(i, (fp - fm) / (2 * h));
  }
  return out;
}

/** All indices when n <= limit, else `limit` spread-out indices (first and last included). */
export function sampleIndices(n: number, limit: number, r: () => number): number[] {
  if (n <= limit) return Array.from({ length: n }, (_, i) => i);
  const set = new Set<number>([0, n - 1]);
  while (set.size < limit) set.add(Math.floor(r() * n));
  return [...set].sort((a, b) => a - b);
}

/** Throws with the worst offender when some |got - ref| > tol (NaN fails). */
export function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, tol: number, context: string,
  indices?: number[]): void {
  if (got.length !== ref.length) throw new Error(`${context}: length ${got.length} != reference ${ref.length}`);
  const idx = indices ?? Array.from({ length: got.length }, (_, i) => i);
  let bad = 0, worst = -1, worstErr = 0;
  for (const i of idx) {
    const e = Math.abs(got[i] - ref[i]);
    if (!(e <= tol)) {
      bad++;
      if (worst < 0 || !(e <= worstErr)) { worst = i; worstErr = e; }
    }
  }
  if (bad > 0) {
    throw new Error(`${context}: ${bad}/${idx.length} elements out of tolerance ${tol.toExponential(2)}; ` +
      `worst at ${worst}: got ${got[worst]}, ref ${ref[worst]}, err ${worstErr.toExponential(3)}`);
  }
}

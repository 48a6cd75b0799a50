/**
 * Deterministic test data, independent of the library's own RNG (so a bug there cannot hide one
 * here). mulberry32 for uniforms, Box-Muller for normals; values are rounded to float32 at creation
 * so the float64 reference sees exactly the numbers the kernels see.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform in [lo, hi). */
export function uniformF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** Normal(mean, std). */
export function normalF32(n: number, seed: number, mean = 0, std = 1): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let u = r();
    while (u === 0) u = r();
    out[i] = mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

export function prod(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

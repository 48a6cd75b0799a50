/** Bench helpers: medians over repeats, wall-clock timing, tables. */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Geometric mean (of ratios: the mean that treats 2x and 0.5x as cancelling). */
export function geomean(xs: number[]): number {
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

/**
 * Output check: the largest |ref - got| and that divided by max |ref| (a NaN counts as an infinite
 * difference; outputs of different lengths differ infinitely).
 */
export function compare(ref: Float32Array, got: Float32Array): { maxAbs: number; rel: number } {
  if (ref.length !== got.length) return { maxAbs: Infinity, rel: Infinity };
  let maxAbs = 0, maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ref[i] - got[i]);
    if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, d);
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  return { maxAbs, rel: maxAbs / (maxRef || 1) };
}

/** Monotonic wall clock in seconds. */
export function nowS(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** Runs fn `warmup` times, then `repeats` timed runs; returns the per-run seconds. */
export function time(fn: () => void, repeats: number, warmup = 1): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return out;
}

/** Single-thread FP32 FMA peak in GFLOP/s, measured by bench/fma_peak.cc (x86-64 with g++). */
export function measurePeak(root: string): { avx512: number; avx2: number } | null {
  if (process.arch !== 'x64') return null;
  const src = path.join(root, 'bench', 'fma_peak.cc');
  const exe = path.join(os.tmpdir(), `simdcnn-fma-peak-${process.pid}`);
  try {
    execFileSync('g++', ['-O2', '-std=c++17', '-mavx512f', '-mavx2', '-mfma', src, '-o', exe], { stdio: 'pipe' });
    const out = execFileSync('taskset', ['-c', '0', exe], { encoding: 'utf8' });
    return JSON.parse(out.trim());
  } catch {
    return null;
  } finally {
    fs.rmSync(exe, { force: true });
  }
}

export function table(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((v, c) => String(v).padStart(widths[c])).join('  ')).join('\n');
}

/** Argument checks shared by the ops: every failure names the op, the argument, expected vs got. */
import { Tensor } from '../tensor';
import { describe, shapeStr } from '../errors';

export function assertTensor(op: string, name: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw new TypeError(`${op}: argument '${name}' must be a Tensor, got ${describe(v)}`);
  if (v.disposed) throw new Error(`${op}: argument '${name}' (shape ${shapeStr(v.shape)}) is disposed`);
  return v;
}

export function assertOptionalTensor(op: string, name: string, v: unknown): Tensor | null {
  if (v === undefined || v === null) return null;
  return assertTensor(op, name, v);
}

export function assertRank(op: string, name: string, t: Tensor, rank: number, layout?: string): void {
  if (t.rank !== rank) {
    throw new RangeError(`${op}: argument '${name}' must have rank ${rank}${layout ? ` (${layout})` : ''}, got shape ${shapeStr(t.shape)}`);
  }
}

export function assertShape(op: string, name: string, t: Tensor, shape: readonly number[]): void {
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`${op}: argument '${name}' must have shape ${shapeStr(shape)}, got ${shapeStr(t.shape)}`);
  }
}

export function assertOptions(op: string, o: unknown): Record<string, unknown> {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object' || Array.isArray(o)) throw new TypeError(`${op}: options must be an object, got ${describe(o)}`);
  return o as Record<string, unknown>;
}

/** An integer >= min. */
export function int(op: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number') throw new TypeError(`${op}: '${name}' must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v) || !Number.isInteger(v)) throw new RangeError(`${op}: '${name}' must be an integer, got ${v}`);
  if (v < min) throw new RangeError(`${op}: '${name}' must be ${min === 1 ? 'positive' : `>= ${min}`}, got ${v}`);
  return v;
}

/** A number or [h, w], each an integer >= min. */
export function intPair(op: string, name: string, v: unknown, min: number): [number, number] {
  if (typeof v === 'number') {
    const x = int(op, name, v, min);
    return [x, x];
  }
  if (Array.isArray(v)) {
    if (v.length !== 2) throw new RangeError(`${op}: '${name}' must be a number or [h, w], got an array of length ${v.length}`);
    return [int(op, `${name}[0]`, v[0], min), int(op, `${name}[1]`, v[1], min)];
  }
  throw new TypeError(`${op}: '${name}' must be a number or [h, w], got ${describe(v)}`);
}

export function finite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${op}: '${name}' must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v)) throw new RangeError(`${op}: '${name}' must be finite, got ${v}`);
  return v;
}

export function bool(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${op}: '${name}' must be a boolean, got ${describe(v)}`);
  return v;
}

/** The most elements one tensor may hold: the native core's limit (kMaxElements in native/core/shape.h), as checkShape enforces. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * Throws a RangeError naming the op, the output shape and its element count when an output would hold
 * more than MAX_ELEMENTS, before anything is allocated: an absurd padding (1e6, 2^30) used to reach
 * `new Float32Array` and fail there as a bare "Invalid typed array length". `what` says where the
 * shape came from (the input, the geometry).
 */
export function assertOutputSize(op: string, shape: readonly number[], what: string): void {
  let n = 1;
  for (const d of shape) n *= d;
  if (n <= MAX_ELEMENTS) return;
  // Exact even past 2^53, where the float product rounds.
  const exact = shape.reduce((a, d) => a * BigInt(d), 1n);
  throw new RangeError(`${op}: output shape ${shapeStr(shape)} would have ${exact} elements, more than a tensor can hold (2^31-1 = ${MAX_ELEMENTS}); ${what}`);
}

/**
 * Output size per spatial dim, as PyTorch computes it:
 * floor((I + padBegin + padEnd - dilation*(K-1) - 1) / S) + 1, or ceil with ceilMode, minus one
 * when the last window would start in the end padding. Returns <= 0 for an empty output.
 */
/**
 * The widest pooling window (the dilated kernel's extent) and padding per axis the pooling kernels
 * take: 2^24 cells. No real model comes near it, and past it the padded row the native kernel
 * scans, or the taps the reference enumerates, would cost that much per thread (a hostile ONNX
 * kernel_shape of 2^31 - 1 asked for 8 GiB and two minutes).
 */
export const kMaxPoolWindow = 2 ** 24;

/** Throws a RangeError naming `where` when a pooling window or padding passes kMaxPoolWindow. */
export function checkPoolWindow(where: string, k: readonly number[], d: readonly number[], pads: readonly number[]): void {
  for (let i = 0; i < k.length; i++) {
    const extent = (d[i] ?? 1) * (k[i] - 1) + 1;
    if (extent > kMaxPoolWindow) {
      throw new RangeError(`${where}: the pooling window spans ${extent} cells along spatial axis ${i} (kernel [${k.join(',')}], dilation [${d.join(',')}]); at most ${kMaxPoolWindow} are supported`);
    }
  }
  if (pads.some((p) => p > kMaxPoolWindow)) throw new RangeError(`${where}: padding [${pads.join(',')}] passes ${kMaxPoolWindow} cells`);
}

export function outputSizeRaw(I: number, K: number, S: number, padBegin: number, padEnd: number, D: number, ceilMode: boolean): number {
  const span = I + padBegin + padEnd - D * (K - 1) - 1;
  if (span < 0) return 0;
  let out = (ceilMode ? Math.ceil(span / S) : Math.floor(span / S)) + 1;
  if (ceilMode && (out - 1) * S >= I + padBegin) out--;
  return out;
}

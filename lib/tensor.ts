/**
 * Tensor: a float32, dense, row-major view of a reference-counted Storage. Data lives in a
 * JS-owned Float32Array; native code borrows the pointer for the length of a call. `reshape`
 * shares storage (counted once in memory()). Every tensor is registered with the innermost tidy
 * scope so it can be disposed when the scope ends.
 */
import { describe, shapeStr } from './errors';
import { rng } from './random';

/** Reference-counted backing store shared by reshape views. */
export class Storage {
  refs = 0;
  constructor(public readonly data: Float32Array) {}
}

/** Autograd node attached to a tensor produced by a differentiable op (see lib/autograd). */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Given the gradient of the output, returns gradients for each input (null where not needed). */
  backward(gradOutput: Tensor): (Tensor | null)[];
}

// ---- async capture (lib/async.ts) -------------------------------------------------------------

/** Set while a forward is being captured for off-thread execution: values are not computed yet. */
export const captureState = { active: false };

/** Thrown by anything that must read tensor values on the JS thread during a capture. */
export class CaptureUnsupportedError extends Error {}

export function assertNotCapturing(op: string): void {
  if (captureState.active) throw new CaptureUnsupportedError(`${op} reads tensor values on the JS thread`);
}

// ---- live-tensor accounting and tidy scopes -------------------------------------------------

const live = { tensors: 0, bytes: 0 };
const scopes: Set<Tensor>[] = [];

function track(t: Tensor): void {
  live.tensors++;
  const top = scopes[scopes.length - 1];
  if (top) top.add(t);
}

export function liveStats(): { tensors: number; bytes: number } {
  return { tensors: live.tensors, bytes: live.bytes };
}

// ---- output-buffer pool -------------------------------------------------------------------------
//
// Every op output used to be a fresh Float32Array: for a 56x56x64 map that is 800 KB of zeroed,
// freshly faulted pages per op, ~7% of a ResNet-18 forward. Ops allocate outputs through
// allocOutput instead; when the last tensor on such an array is disposed, the array goes back to a
// size-keyed pool for the next op of that size. An array is only recycled when nothing else can
// still read it: arrays a recorded autograd closure captured are unpooled by record(), and while
// a forwardAsync capture is recorded or running (its kernels run later on a worker) disposed
// arrays are dropped instead. Pooled bytes are reported by memory().pooled and bounded by
// setBufferPoolLimit (default 256 MiB; 0 turns the pool off and frees it). Arrays disposed while a
// capture is pending are set aside and pooled once no capture is left.

const pool = new Map<number, Float32Array[]>();
const poolable = new WeakSet<Float32Array>();
const poolState = { bytes: 0, limit: 256 * 1024 * 1024 };

/** Set while a capture is being recorded or its kernels still run (lib/async.ts). */
export const asyncState = { pending: 0 };

/**
 * Internal: a Float32Array of n elements for an op's output. Its contents are unspecified (a
 * recycled array holds old values): only for ops whose kernel writes every element.
 */
export function allocOutput(n: number): Float32Array {
  const free = pool.get(n);
  const a = free?.pop();
  if (a) {
    poolState.bytes -= a.byteLength;
    if (allocTrace.arrays) allocTrace.arrays.push(a);
    return a;
  }
  const fresh = new Float32Array(n);
  if (poolState.limit > 0) poolable.add(fresh);
  if (allocTrace.arrays) allocTrace.arrays.push(fresh);
  return fresh;
}

/** Internal (lib/nn/compiled.ts): while `arrays` is set, every op output array is appended to it. */
export const allocTrace: { arrays: Float32Array[] | null } = { arrays: null };

/** Internal: this array may be read after its tensors are disposed, for good. */
export function unpool(a: Float32Array): void {
  poolable.delete(a);
}

// Autograd closures read their op's input and output arrays during backward, which may run after
// those tensors are disposed. Such an array is held while any recorded node may read it: disposing
// its last tensor then only marks it, and it goes back to the pool when the last hold is released
// (backward releases the tape it ran). A tape that is never run back drops its holds with its
// nodes, by garbage collection (weak maps: nothing leaks, the arrays are simply not reused).
const holds = new WeakMap<Float32Array, number>();
const recycleOnRelease = new WeakSet<Float32Array>();

/** Internal (lib/autograd): a recorded node may read `a` until it is released. */
export function hold(a: Float32Array): void {
  if (poolable.has(a)) holds.set(a, (holds.get(a) ?? 0) + 1);
}

/** Internal (lib/autograd): the node that held `a` is gone (backward ran it). */
export function release(a: Float32Array): void {
  const n = holds.get(a);
  if (n === undefined) return;
  if (n > 1) {
    holds.set(a, n - 1);
    return;
  }
  holds.delete(a);
  if (recycleOnRelease.has(a)) {
    recycleOnRelease.delete(a);
    recycle(a);
  }
}

/**
 * Internal (lib/autograd): an array for a gradient, from the pool like an op output (contents
 * unspecified: only for kernels that write every element). Backward recycles it when consumed.
 */
export function allocGrad(n: number): Float32Array {
  const a = allocOutput(n);
  gradArrays.add(a);
  return a;
}
const gradArrays = new WeakSet<Float32Array>();

/** Internal (lib/autograd): true for an array from allocGrad not yet handed to a tensor. */
export function isGradArray(a: Float32Array): boolean {
  return gradArrays.has(a);
}

/** Internal (lib/autograd): a gradient array nobody reads any more goes back to the pool. */
export function recycleGrad(a: Float32Array): void {
  if (!gradArrays.delete(a)) return;
  recycle(a);
}

/** Internal (lib/autograd): a gradient array becomes a tensor's storage (pooled on its dispose). */
export function adoptGrad(a: Float32Array): void {
  gradArrays.delete(a);
}

/**
 * Internal (lib/nn/compiled.ts): takes arrays out of the pool for good (also those sitting in its
 * free lists now): a recorded forward keeps writing into them.
 */
export function claimArrays(arrays: Iterable<Float32Array>): void {
  for (const a of arrays) {
    poolable.delete(a);
    const free = pool.get(a.length);
    if (!free) continue;
    const i = free.indexOf(a);
    if (i >= 0) {
      free.splice(i, 1);
      poolState.bytes -= a.byteLength;
    }
  }
}

// Arrays disposed while a capture was pending: recycled once no capture is left (asyncDone).
// Bounded like the pool: with captures overlapping forever the excess is simply dropped.
let deferred: Float32Array[] = [];
let deferredBytes = 0;

function recycle(a: Float32Array): void {
  if (!poolable.has(a)) return;
  if (holds.has(a)) {
    recycleOnRelease.add(a);
    return;
  }
  if (asyncState.pending > 0) {
    if (deferredBytes + a.byteLength > poolState.limit) {
      poolable.delete(a);
      return;
    }
    deferred.push(a);
    deferredBytes += a.byteLength;
    return;
  }
  if (poolState.bytes + a.byteLength > poolState.limit) {
    poolable.delete(a);
    return;
  }
  let free = pool.get(a.length);
  if (!free) pool.set(a.length, (free = []));
  free.push(a);
  poolState.bytes += a.byteLength;
}

/** Internal (lib/async.ts): a capture finished; with none left, deferred arrays become reusable. */
export function asyncDone(): void {
  asyncState.pending--;
  if (asyncState.pending > 0) return;
  const d = deferred;
  deferred = [];
  deferredBytes = 0;
  for (const a of d) recycle(a);
}

/** Bytes held by the output-buffer pool (arrays kept for reuse by later ops). */
export function pooledBytes(): number {
  return poolState.bytes;
}

/**
 * Caps the bytes the output-buffer pool keeps for reuse (default 256 MiB). 0 disables pooling and
 * frees the pool; lowering the cap frees the arrays above it.
 */
export function setBufferPoolLimit(bytes: number): void {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) {
    throw new RangeError(`setBufferPoolLimit: bytes must be a finite number >= 0, got ${describe(bytes)}`);
  }
  poolState.limit = Math.floor(bytes);
  for (const [n, free] of pool) {
    while (free.length > 0 && poolState.bytes > poolState.limit) poolState.bytes -= free.pop()!.byteLength;
    if (free.length === 0) pool.delete(n);
  }
}

export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype = 'float32' as const;
  /** Set when the tensor was produced by a recorded op. */
  gradNode: GradNode | null = null;
  /**
   * Bumped by every library write into this tensor's data after creation (optimiser steps,
   * loadStateDict, batch-norm running statistics); caches derived from a tensor (folded inference
   * weights) compare it. Writing through `.data` directly must bump it too.
   */
  version = 0;
  /** Set on a non-leaf whose graph a backward() already walked and released. */
  graphReleased = false;
  grad: Tensor | null = null;
  /** Parameters, buffers, grads and optimiser state: never disposed by tidy. */
  persistent = false;
  private _requiresGrad = false;
  private storage: Storage | null;

  /** Internal: use Tensor.from / tensor / zeros ... */
  constructor(storage: Storage, shape: readonly number[]) {
    this.storage = storage;
    // A frozen shape cannot change under us, so it is shared (layers pass the output shape they
    // froze once per input shape: freezing a fresh copy costs ~90 ns, a sixth of a small op).
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze(shape.slice());
    let size = 1;
    for (let i = 0; i < shape.length; i++) size *= shape[i];
    this.size = size;
    if (storage.refs === 0) live.bytes += storage.data.byteLength;
    storage.refs++;
    track(this);
  }

  /**
   * Copies `data` (a typed array, or an array of numbers: NaN and Infinity included) into a new
   * tensor of the given shape. Any other element is a TypeError naming its index.
   * @example const t = Tensor.from([1, 2, 3, 4], [2, 2]);
   */
  static from(data: Float32Array | ArrayLike<number>, shape: readonly number[]): Tensor {
    const dims = checkShape('Tensor.from', shape);
    const n = dims.reduce((a, b) => a * b, 1);
    if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
      throw new TypeError(`Tensor.from: data must be a Float32Array or an array of numbers, got ${describe(data)}`);
    }
    if (data.length !== n) {
      throw new RangeError(`Tensor.from: data has ${data.length} elements but shape ${shapeStr(dims)} needs ${n}`);
    }
    const copy = new Float32Array(n);
    const view: unknown = data;
    if (ArrayBuffer.isView(view)) {
      // A typed array holds numbers by construction: one bulk conversion, no per-element check.
      // The 64-bit integer arrays hold BigInts, which set() cannot mix with floats.
      if (view instanceof BigInt64Array || view instanceof BigUint64Array) {
        throw new TypeError(`Tensor.from: data must hold numbers, got a ${view.constructor.name} (convert it with Number() first)`);
      }
      copy.set(data);
    } else {
      // Number(x) would turn 'a' and {} into NaN (and '' or null into 0) without a word.
      for (let i = 0; i < n; i++) {
        const v = data[i];
        if (typeof v !== 'number') {
          throw new TypeError(`Tensor.from: data[${i}] must be a number, got ${describeElement(v)}`);
        }
        copy[i] = v;
      }
    }
    return new Tensor(new Storage(copy), dims);
  }

  /** Wraps an array without copying (internal: ops hand over freshly allocated outputs). */
  static wrap(data: Float32Array, shape: readonly number[]): Tensor {
    return new Tensor(new Storage(data), shape);
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /**
   * The backing array itself, no copy (toArray copies): for reading results without paying for a
   * copy, e.g. a forward's logits. Valid until the tensor is disposed (its array may then be reused
   * for a later op's output); throws once disposed. Treat it as read-only: writing through it
   * changes the tensor behind the back of caches keyed on it (planned weights).
   * @example const logits = net.call(x); const best = argmaxOf(logits.data); logits.dispose();
   */
  get data(): Float32Array {
    if (this.storage === null) throw new Error(`Tensor of shape ${shapeStr(this.shape)} is disposed`);
    return this.storage.data;
  }

  get rank(): number {
    return this.shape.length;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  set requiresGrad(v: boolean) {
    if (typeof v !== 'boolean') throw new TypeError(`requiresGrad must be a boolean, got ${describe(v)}`);
    this._requiresGrad = v;
  }

  /** A copy of the data that stays valid after dispose. */
  toArray(): Float32Array {
    assertNotCapturing('toArray');
    return this.data.slice();
  }

  /** The value of a size-1 tensor. */
  item(): number {
    assertNotCapturing('item');
    const d = this.data;
    if (this.size !== 1) throw new RangeError(`item: tensor has ${this.size} elements (shape ${shapeStr(this.shape)}), expected 1`);
    return d[0];
  }

  /** A view with a new shape sharing this tensor's storage; one dimension may be -1. */
  reshape(shape: readonly number[]): Tensor {
    const storage = this.liveStorage('reshape');
    const dims = inferShape('reshape', shape, this.size, this.shape);
    return this.viewOf(storage, dims);
  }

  /** Internal: a view with `dims`, which the caller computed from this shape (same size, checked). */
  view(op: string, dims: readonly number[]): Tensor {
    return this.viewOf(this.liveStorage(op), dims);
  }

  private viewOf(storage: Storage, dims: readonly number[]): Tensor {
    const t = new Tensor(storage, dims);
    if (this.requiresGrad) viewHook(this, t);
    return t;
  }

  /** Frees the data (the storage when its last view goes). Idempotent. */
  dispose(): void {
    if (this.storage === null) return;
    const s = this.storage;
    this.storage = null;
    this.gradNode = null;
    live.tensors--;
    if (--s.refs === 0) {
      live.bytes -= s.data.byteLength;
      recycle(s.data);
    }
    for (const scope of scopes) scope.delete(this);
  }

  toString(): string {
    return `Tensor(shape=${shapeStr(this.shape)}${this.disposed ? ', disposed' : ''})`;
  }

  /** Internal: storage for a view; throws when disposed. */
  liveStorage(op: string): Storage {
    if (this.storage === null) throw new Error(`${op}: tensor of shape ${shapeStr(this.shape)} is disposed`);
    return this.storage;
  }

  /** Internal: backward of a scalar (or given grad) through the tape; installed by lib/autograd. */
  backward(grad?: Tensor): void {
    backwardImpl(this, grad);
  }
}

let viewHook: (src: Tensor, view: Tensor) => void = () => {};

/** Internal hook used by lib/autograd to record reshape views. */
export function setViewHook(fn: (src: Tensor, view: Tensor) => void): void {
  viewHook = fn;
}

let backwardImpl: (t: Tensor, grad?: Tensor) => void = () => {
  throw new Error('backward: autograd is not available');
};

/** Internal hook used by lib/autograd to install the tape walker. */
export function setBackwardImpl(fn: (t: Tensor, grad?: Tensor) => void): void {
  backwardImpl = fn;
}

// ---- shape helpers ----------------------------------------------------------------------------

/** An array element that is not a number, for Tensor.from's message. */
function describeElement(v: unknown): string {
  if (typeof v === 'string') return `the string '${v.length > 32 ? `${v.slice(0, 32)}...` : v}'`;
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if (typeof v === 'bigint') return `the bigint ${v}n`;
  if (Array.isArray(v)) return `${describe(v)} (nested arrays are not flattened: pass the flat data and the shape)`;
  if (typeof v === 'object' && v !== null) return `an object (${describe(v)})`;
  return describe(v);
}

export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${op}: shape must be an array of integers, got ${describe(shape)}`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new RangeError(`${op}: shape ${shapeStr(shape as number[])} must hold non-negative integers, got ${String(d)}`);
    }
  }
  const n = (shape as number[]).reduce((a, b) => a * b, 1);
  if (n > 2 ** 31 - 1) throw new RangeError(`${op}: shape ${shapeStr(shape as number[])} has more than 2^31-1 elements`);
  return (shape as number[]).slice();
}

function inferShape(op: string, shape: readonly number[], size: number, from: readonly number[]): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${op}: shape must be an array of integers, got ${describe(shape)}`);
  let infer = -1;
  let known = 1;
  const dims = shape.slice();
  dims.forEach((d, i) => {
    if (d === -1) {
      if (infer >= 0) throw new RangeError(`${op}: only one dimension may be -1, got ${shapeStr(shape)}`);
      infer = i;
    } else if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new RangeError(`${op}: shape ${shapeStr(shape)} must hold non-negative integers or one -1`);
    } else known *= d;
  });
  if (infer >= 0) {
    if (known === 0 || size % known !== 0) {
      throw new RangeError(`${op}: cannot reshape ${shapeStr(from)} (${size} elements) into ${shapeStr(shape)}`);
    }
    dims[infer] = size / known;
  } else if (known !== size) {
    throw new RangeError(`${op}: cannot reshape ${shapeStr(from)} (${size} elements) into ${shapeStr(shape)} (${known} elements)`);
  }
  return dims;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// ---- tidy / keep --------------------------------------------------------------------------------

/**
 * Runs fn and disposes every tensor created inside it that fn does not return (arrays and plain
 * objects of tensors are searched) and that was not `keep`-ed. Also disposes when fn throws.
 * @example const y = tidy(() => ops.relu(ops.conv2d(x, w)));
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError(`tidy: fn must be a function, got ${describe(fn)}`);
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) if (!t.persistent) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    for (const t of scope) if (!t.persistent) t.dispose();
    throw new TypeError('tidy: fn returned a Promise; tidy only takes synchronous functions');
  }
  const returned = new Set<Tensor>();
  collectTensors(result, returned, 0);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (returned.has(t)) {
      if (parent) parent.add(t);
    } else if (!t.persistent) {
      t.dispose();
    }
  }
  return result;
}

function collectTensors(v: unknown, out: Set<Tensor>, depth: number): void {
  if (depth > 8 || v === null || typeof v !== 'object') return;
  if (v instanceof Tensor) { out.add(v); return; }
  if (Array.isArray(v)) { for (const x of v) collectTensors(x, out, depth + 1); return; }
  if (Object.getPrototypeOf(v) === Object.prototype || v instanceof Map) {
    const values = v instanceof Map ? [...v.values()] : Object.values(v);
    for (const x of values) collectTensors(x, out, depth + 1);
  }
}

/** Marks t to survive every enclosing tidy. Returns t. */
export function keep<T extends Tensor>(t: T): T {
  if (!(t instanceof Tensor)) throw new TypeError(`keep: expected a Tensor, got ${describe(t)}`);
  for (const scope of scopes) scope.delete(t);
  return t;
}

/** Internal: mark as a parameter/buffer/grad/optimiser state (never disposed by tidy). */
export function persist<T extends Tensor>(t: T): T {
  t.persistent = true;
  keep(t);
  return t;
}

// ---- factories ----------------------------------------------------------------------------------

export function tensor(data: Float32Array | ArrayLike<number>, shape: readonly number[]): Tensor {
  return Tensor.from(data, shape);
}

export function zeros(shape: readonly number[]): Tensor {
  const dims = checkShape('zeros', shape);
  return Tensor.wrap(new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
}

export function ones(shape: readonly number[]): Tensor {
  return full(shape, 1);
}

export function full(shape: readonly number[], value: number): Tensor {
  const dims = checkShape('full', shape);
  if (typeof value !== 'number') throw new TypeError(`full: value must be a number, got ${describe(value)}`);
  return Tensor.wrap(new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value), dims);
}

import { Rng } from './random';

function seeded(op: string, opts?: { seed?: number }): Rng {
  if (opts !== undefined && (opts === null || typeof opts !== 'object')) {
    throw new TypeError(`${op}: options must be an object, got ${describe(opts)}`);
  }
  if (opts?.seed === undefined) return rng();
  if (!Number.isInteger(opts.seed)) throw new RangeError(`${op}: seed must be an integer, got ${String(opts.seed)}`);
  return new Rng(opts.seed);
}

/** Standard-normal samples. */
export function randn(shape: readonly number[], opts?: { seed?: number }): Tensor {
  const dims = checkShape('randn', shape);
  const r = seeded('randn', opts);
  const d = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < d.length; i++) d[i] = r.normal();
  return Tensor.wrap(d, dims);
}

/** Uniform samples in [0, 1). */
export function rand(shape: readonly number[], opts?: { seed?: number }): Tensor {
  const dims = checkShape('rand', shape);
  const r = seeded('rand', opts);
  const d = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < d.length; i++) d[i] = r.uniform();
  return Tensor.wrap(d, dims);
}

import { Tensor, assertNotCapturing } from '../tensor';
import { record } from '../autograd/tape';
import { describe, shapeStr } from '../errors';
import { assertTensor, bool, int } from './validate';
import { splitDim } from './activation';

/**
 * Flattens dims startDim.. into one: [N, C, H, W] -> [N, C*H*W] for startDim 1. Returns a view
 * sharing x's storage.
 */
export function flatten(x: Tensor, startDim = 1): Tensor {
  const op = 'flatten';
  assertTensor(op, 'x', x);
  const s0 = int(op, 'startDim', startDim, -Math.max(x.rank, 1));
  const s = s0 < 0 ? s0 + x.rank : s0;
  if (s >= Math.max(x.rank, 1)) throw new RangeError(`${op}: 'startDim' ${s0} is out of range for shape ${shapeStr(x.shape)}`);
  if (x.rank === 0) return x.reshape([1]);
  // The new shape has x's size by construction: no reshape validation needed.
  const shape: number[] = [];
  let inner = 1;
  for (let i = 0; i < x.rank; i++) {
    if (i < s) shape.push(x.shape[i]);
    else inner *= x.shape[i];
  }
  shape.push(inner);
  return x.view(op, shape);
}

/** A copy with its own storage. */
export function clone(x: Tensor): Tensor {
  assertTensor('clone', 'x', x);
  assertNotCapturing('clone');
  return record(Tensor.from(x.data, x.shape), 'clone', [x], (dy) => [dy]);
}

/** A tensor sharing x's storage that is not part of any autograd graph. */
export function detach(x: Tensor): Tensor {
  assertTensor('detach', 'x', x);
  return new Tensor(x.liveStorage('detach'), x.shape);
}

function reduce(op: string, x: Tensor, dim: number | undefined, keepDim: boolean, mean: boolean): Tensor {
  assertTensor(op, 'x', x);
  assertNotCapturing(op);
  bool(op, 'keepDim', keepDim);
  const d = x.data;
  if (dim === undefined) {
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i];
    if (mean) s /= d.length;
    const scale = mean ? 1 / d.length : 1;
    return record(Tensor.wrap(new Float32Array([s]), keepDim ? x.shape.map(() => 1) : []), op, [x],
      (dy) => [new Float32Array(d.length).fill(dy[0] * scale)]);
  }
  const [outer, n, inner, axis] = splitDim(op, x, dim);
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += d[(o * n + k) * inner + i];
      out[o * inner + i] = mean ? s / n : s;
    }
  }
  const shape = x.shape.slice();
  if (keepDim) shape[axis] = 1; else shape.splice(axis, 1);
  const scale = mean ? 1 / n : 1;
  return record(Tensor.wrap(out, shape), op, [x], (dy) => {
    const dx = new Float32Array(d.length);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < n; k++) {
        for (let i = 0; i < inner; i++) dx[(o * n + k) * inner + i] = dy[o * inner + i] * scale;
      }
    }
    return [dx];
  });
}

/** Sum of all elements, or along dim. */
export function sum(x: Tensor, dim?: number, keepDim = false): Tensor { return reduce('sum', x, dim, keepDim, false); }
/** Mean of all elements, or along dim. */
export function mean(x: Tensor, dim?: number, keepDim = false): Tensor { return reduce('mean', x, dim, keepDim, true); }

/** Index of the largest value (first on ties), over all elements or along dim; float32 indices. */
export function argmax(x: Tensor, dim?: number, keepDim = false): Tensor {
  const op = 'argmax';
  assertTensor(op, 'x', x);
  assertNotCapturing(op);
  const d = x.data;
  if (x.size < 1) throw new RangeError(`${op}: x is empty (shape ${shapeStr(x.shape)})`);
  if (dim === undefined) {
    let best = 0;
    for (let i = 1; i < d.length; i++) if (d[i] > d[best] || (Number.isNaN(d[i]) && !Number.isNaN(d[best]))) best = i;
    return Tensor.wrap(new Float32Array([best]), []);
  }
  const [outer, n, inner, axis] = splitDim(op, x, dim);
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = 0;
      let bv = d[o * n * inner + i];
      for (let k = 1; k < n; k++) {
        const v = d[(o * n + k) * inner + i];
        if (v > bv || (Number.isNaN(v) && !Number.isNaN(bv))) { bv = v; best = k; }
      }
      out[o * inner + i] = best;
    }
  }
  const shape = x.shape.slice();
  if (keepDim) shape[axis] = 1; else shape.splice(axis, 1);
  return Tensor.wrap(out, shape);
}

/** Joins tensors along dim; all other dimensions must match. */
export function concat(tensors: Tensor[], dim = 0): Tensor {
  const op = 'concat';
  assertNotCapturing(op);
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new TypeError(`${op}: 'tensors' must be a non-empty array of Tensors, got ${describe(tensors)}`);
  }
  tensors.forEach((t, i) => assertTensor(op, `tensors[${i}]`, t));
  const first = tensors[0];
  const [outer, , inner, axis] = splitDim(op, first, dim);
  let total = 0;
  for (const [i, t] of tensors.entries()) {
    if (t.rank !== first.rank || t.shape.some((s, j) => j !== axis && s !== first.shape[j])) {
      throw new RangeError(`${op}: tensors[${i}] has shape ${shapeStr(t.shape)}, which differs from ${shapeStr(first.shape)} outside dim ${axis}`);
    }
    total += t.shape[axis];
  }
  const out = new Float32Array(outer * total * inner);
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape[axis] * inner;
    const d = t.data;
    for (let o = 0; o < outer; o++) out.set(d.subarray(o * n, (o + 1) * n), o * total * inner + offset);
    offset += n;
  }
  const shape = first.shape.slice();
  shape[axis] = total;
  return record(Tensor.wrap(out, shape), op, tensors, (dy) => {
    let off = 0;
    return tensors.map((t) => {
      const n = t.shape[axis] * inner;
      const g = new Float32Array(t.size);
      for (let o = 0; o < outer; o++) g.set(dy.subarray(o * total * inner + off, o * total * inner + off + n), o * n);
      off += n;
      return g;
    });
  });
}

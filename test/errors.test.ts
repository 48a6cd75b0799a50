/**
 * Bad-input matrix: every case must throw the right error CLASS with a message naming the op, the
 * argument and (where relevant) the shapes; must leave its inputs unchanged; and the process must
 * carry on (a later valid op works). Runs on both backends. Then the addon itself is called
 * directly with hostile arguments: it must throw TypeError/RangeError, never crash.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { nn, ops, tensor, Tensor, setBackend, setNumThreads, getNumThreads } from '../lib/index';
import { getAddon } from '../lib/backend/index';
import { normalF32, prod } from './reference/data';

const BACKENDS = ['native', 'js'] as const;
afterAll(() => setBackend('native'));

let seed = 1;
const X = (shape: number[]): Tensor => tensor(normalF32(prod(shape), seed++), shape);
const gone = (t: Tensor): Tensor => { t.dispose(); return t; };

type ErrClass = typeof RangeError | typeof TypeError | typeof Error;
interface Case {
  name: string;
  /** Builds fresh inputs and returns them with the failing call. */
  make: () => { inputs: Tensor[]; call: () => unknown };
  cls: ErrClass;
  /** Substrings the message must contain (the op name first). */
  msg: string[];
}

const c = (name: string, cls: ErrClass, msg: string[], make: Case['make']): Case => ({ name, cls, msg, make });
const any = <T>(v: unknown): T => v as T;

// ---- conv2d -----------------------------------------------------------------------------------
const conv = (xs: number[], ws: number[], o?: unknown, bias?: Tensor | null | unknown) => () => {
  const x = X(xs), w = X(ws);
  const b = bias instanceof Tensor || bias === null || bias === undefined ? (bias as Tensor | null | undefined) : bias;
  return { inputs: [x, w, ...(b instanceof Tensor ? [b] : [])], call: () => ops.conv2d(x, w, any(b), any(o)) };
};
const X4 = [1, 3, 7, 7], W4 = [4, 3, 3, 3];
const CONV: Case[] = [
  c('x rank 3', RangeError, ['conv2d', "'x'", 'rank 4', '[3,7,7]'], conv([3, 7, 7], W4)),
  c('x rank 5', RangeError, ['conv2d', "'x'", '[1,1,3,7,7]'], conv([1, 1, 3, 7, 7], W4)),
  c('weight rank 3', RangeError, ['conv2d', "'weight'", '[4,3,3]'], conv(X4, [4, 3, 3])),
  c('channel mismatch', RangeError, ['conv2d', '3 channels', '[1,3,7,7]', '[4,2,3,3]'], conv(X4, [4, 2, 3, 3])),
  c('channel mismatch (weight wants more)', RangeError, ['conv2d', '[1,3,7,7]', '[4,5,3,3]'], conv(X4, [4, 5, 3, 3])),
  c('stride 0', RangeError, ['conv2d', "'stride'", '0'], conv(X4, W4, { stride: 0 })),
  c('stride -1', RangeError, ['conv2d', "'stride'", '-1'], conv(X4, W4, { stride: -1 })),
  c('stride 1.5', RangeError, ['conv2d', "'stride'", 'integer'], conv(X4, W4, { stride: 1.5 })),
  c('stride NaN', RangeError, ['conv2d', "'stride'", 'NaN'], conv(X4, W4, { stride: NaN })),
  c('stride Infinity', RangeError, ['conv2d', "'stride'", 'Infinity'], conv(X4, W4, { stride: Infinity })),
  c('stride [1,0]', RangeError, ['conv2d', "'stride[1]'"], conv(X4, W4, { stride: [1, 0] })),
  c('stride [1,2,3]', RangeError, ['conv2d', "'stride'", 'length 3'], conv(X4, W4, { stride: [1, 2, 3] })),
  c("stride '2'", TypeError, ['conv2d', "'stride'"], conv(X4, W4, { stride: '2' })),
  c('dilation 0', RangeError, ['conv2d', "'dilation'"], conv(X4, W4, { dilation: 0 })),
  c('dilation -2', RangeError, ['conv2d', "'dilation'"], conv(X4, W4, { dilation: -2 })),
  c('dilation 2.5', RangeError, ['conv2d', "'dilation'"], conv(X4, W4, { dilation: 2.5 })),
  c('dilation NaN', RangeError, ['conv2d', "'dilation'"], conv(X4, W4, { dilation: NaN })),
  c('dilation [1, Infinity]', RangeError, ['conv2d', "'dilation[1]'"], conv(X4, W4, { dilation: [1, Infinity] })),
  c('padding -1', RangeError, ['conv2d', "'padding'", '-1'], conv(X4, W4, { padding: -1 })),
  c('padding [1,-1]', RangeError, ['conv2d', "'padding[1]'"], conv(X4, W4, { padding: [1, -1] })),
  c('padding [0,0,0,-1]', RangeError, ['conv2d', "'padding[3]'"], conv(X4, W4, { padding: [0, 0, 0, -1] })),
  c('padding 1.5', RangeError, ['conv2d', "'padding'"], conv(X4, W4, { padding: 1.5 })),
  c('padding NaN', RangeError, ['conv2d', "'padding'"], conv(X4, W4, { padding: NaN })),
  c('padding Infinity', RangeError, ['conv2d', "'padding'"], conv(X4, W4, { padding: Infinity })),
  c('padding of length 3', RangeError, ['conv2d', "'padding'", 'length 3'], conv(X4, W4, { padding: [1, 2, 3] })),
  c("padding 'full'", RangeError, ['conv2d', "'padding'", 'full'], conv(X4, W4, { padding: 'full' })),
  c('padding {} (object)', TypeError, ['conv2d', "'padding'"], conv(X4, W4, { padding: {} })),
  c("'same' with stride 2", RangeError, ['conv2d', "'same'", 'stride'], conv(X4, W4, { padding: 'same', stride: 2 })),
  c("'same' with stride [1,2]", RangeError, ['conv2d', "'same'", 'stride'], conv(X4, W4, { padding: 'same', stride: [1, 2] })),
  c('groups 0', RangeError, ['conv2d', "'groups'"], conv(X4, W4, { groups: 0 })),
  c('groups 2 does not divide 3 channels', RangeError, ['conv2d', 'groups', '3', '[1,3,7,7]'], conv(X4, [4, 1, 3, 3], { groups: 2 })),
  c('groups 2 does not divide 3 outputs', RangeError, ['conv2d', 'groups', 'output channels', '[3,2,3,3]'], conv([1, 4, 7, 7], [3, 2, 3, 3], { groups: 2 })),
  c('groups 1.5', RangeError, ['conv2d', "'groups'"], conv(X4, W4, { groups: 1.5 })),
  c('groups NaN', RangeError, ['conv2d', "'groups'"], conv(X4, W4, { groups: NaN })),
  c("groups '1'", TypeError, ['conv2d', "'groups'"], conv(X4, W4, { groups: '1' })),
  c('bias [5] for 4 outputs', RangeError, ['conv2d', "'bias'", '[4]', '[5]'], () => conv(X4, W4, undefined, X([5]))()),
  c('bias [1,4]', RangeError, ['conv2d', "'bias'", '[1,4]'], () => conv(X4, W4, undefined, X([1, 4]))()),
  c('bias a number', TypeError, ['conv2d', "'bias'"], conv(X4, W4, undefined, 3)),
  c('bias an Array', TypeError, ['conv2d', "'bias'", 'Array'], conv(X4, W4, undefined, [1, 2, 3, 4])),
  c('empty output (2x2 input, 3x3 kernel)', RangeError, ['conv2d', 'empty', '[1,3,2,2]', '[4,3,3,3]'], conv([1, 3, 2, 2], W4)),
  c('empty output (dilation 3 on 5x5)', RangeError, ['conv2d', 'empty', '[1,3,5,5]', '7x7'], conv([1, 3, 5, 5], W4, { dilation: 3 })),
  // An output past 2^31-1 elements is refused before anything is allocated, naming the shape and the count.
  c('padding 1e6: output too large', RangeError, ['conv2d', 'output shape [1,4,2000005,2000005]', '16000080000100 elements', '2^31-1', '[1,3,7,7]'], conv(X4, W4, { padding: 1e6 })),
  c('padding 2^30: output too large', RangeError, ['conv2d', 'output shape [1,4,2147483653,2147483653]', '18446744159608897636 elements'], conv(X4, W4, { padding: 2 ** 30 })),
  c('padding [2^30, 0]: output too large', RangeError, ['conv2d', 'output shape [1,4,2147483653,5]', '42949673060 elements', '[1073741824,0,1073741824,0]'], conv(X4, W4, { padding: [2 ** 30, 0] })),
  c('padding [0, 0, 0, 1e9]: output too large', RangeError, ['conv2d', 'output shape [1,4,5,1000000005]', '20000000100 elements'], conv(X4, W4, { padding: [0, 0, 0, 1e9] })),
  c('zero batch', RangeError, ['conv2d', '[0,3,7,7]'], conv([0, 3, 7, 7], W4)),
  c('weight zero outC', RangeError, ['conv2d', 'weight', '[0,3,3,3]'], conv(X4, [0, 3, 3, 3])),
  c('x an Array', TypeError, ['conv2d', "'x'", 'Array'], () => { const w = X(W4); return { inputs: [w], call: () => ops.conv2d(any([1, 2, 3]), w) }; }),
  c('x a string', TypeError, ['conv2d', "'x'"], () => { const w = X(W4); return { inputs: [w], call: () => ops.conv2d(any('x'), w) }; }),
  c('x null', TypeError, ['conv2d', "'x'", 'null'], () => { const w = X(W4); return { inputs: [w], call: () => ops.conv2d(any(null), w) }; }),
  c('weight a Float32Array', TypeError, ['conv2d', "'weight'", 'Float32Array'], () => { const x = X(X4); return { inputs: [x], call: () => ops.conv2d(x, any(new Float32Array(108))) }; }),
  c('options a string', TypeError, ['conv2d', 'options'], conv(X4, W4, 'same')),
  c('x disposed', Error, ['conv2d', 'disposed'], () => { const x = gone(X(X4)), w = X(W4); return { inputs: [w], call: () => ops.conv2d(x, w) }; }),
  c('weight disposed', Error, ['conv2d', 'disposed'], () => { const x = X(X4), w = gone(X(W4)); return { inputs: [x], call: () => ops.conv2d(x, w) }; }),
  c('bias disposed', Error, ['conv2d', 'disposed'], () => { const x = X(X4), w = X(W4), b = gone(X([4])); return { inputs: [x, w], call: () => ops.conv2d(x, w, b) }; }),
];

// ---- pooling ----------------------------------------------------------------------------------
type PoolFn = (x: Tensor, o: never) => Tensor;
const POOLS: [string, PoolFn][] = [['maxPool2d', ops.maxPool2d as PoolFn], ['avgPool2d', ops.avgPool2d as PoolFn], ['minPool2d', ops.minPool2d as PoolFn]];
const pool = (fn: PoolFn, xs: number[], o: unknown) => () => { const x = X(xs); return { inputs: [x], call: () => fn(x, any(o)) }; };
const P4 = [1, 2, 6, 6];
const POOL: Case[] = POOLS.flatMap(([name, fn]) => [
  c(`${name}: x rank 3`, RangeError, [name, "'x'", '[2,6,6]'], pool(fn, [2, 6, 6], { kernelSize: 2 })),
  c(`${name}: kernelSize missing`, TypeError, [name, "'kernelSize'"], pool(fn, P4, {})),
  c(`${name}: options missing`, TypeError, [name, "'kernelSize'"], pool(fn, P4, undefined)),
  c(`${name}: kernelSize 0`, RangeError, [name, "'kernelSize'"], pool(fn, P4, { kernelSize: 0 })),
  c(`${name}: kernelSize -1`, RangeError, [name, "'kernelSize'"], pool(fn, P4, { kernelSize: -1 })),
  c(`${name}: kernelSize 2.5`, RangeError, [name, "'kernelSize'"], pool(fn, P4, { kernelSize: 2.5 })),
  c(`${name}: kernelSize NaN`, RangeError, [name, "'kernelSize'"], pool(fn, P4, { kernelSize: NaN })),
  c(`${name}: kernelSize [2]`, RangeError, [name, "'kernelSize'"], pool(fn, P4, { kernelSize: [2] })),
  c(`${name}: stride 0`, RangeError, [name, "'stride'"], pool(fn, P4, { kernelSize: 2, stride: 0 })),
  c(`${name}: stride Infinity`, RangeError, [name, "'stride'"], pool(fn, P4, { kernelSize: 2, stride: Infinity })),
  c(`${name}: padding -1`, RangeError, [name, "'padding'"], pool(fn, P4, { kernelSize: 2, padding: -1 })),
  c(`${name}: padding 2 over half of kernel 2`, RangeError, [name, "'padding'", 'half'], pool(fn, P4, { kernelSize: 2, padding: 2 })),
  c(`${name}: padding [0,2] over half of kernel 3`, RangeError, [name, "'padding'", 'half'], pool(fn, P4, { kernelSize: 3, padding: [0, 2] })),
  c(`${name}: padding 1e6 over half of kernel 3`, RangeError, [name, "'padding'", '[1000000,1000000]', 'half'], pool(fn, P4, { kernelSize: 3, padding: 1e6 })),
  c(`${name}: padding 2^30 over half of kernel 2`, RangeError, [name, "'padding'", '[1073741824,1073741824]', 'half'], pool(fn, P4, { kernelSize: 2, padding: 2 ** 30 })),
  c(`${name}: empty output (2x2 input, kernel 3)`, RangeError, [name, 'empty', '[1,1,2,2]'], pool(fn, [1, 1, 2, 2], { kernelSize: 3 })),
  c(`${name}: ceilMode 'yes'`, TypeError, [name, "'ceilMode'"], pool(fn, P4, { kernelSize: 2, ceilMode: 'yes' })),
  c(`${name}: x an Array`, TypeError, [name, "'x'", 'Array'], () => ({ inputs: [], call: () => fn(any([[1, 2], [3, 4]]), any({ kernelSize: 2 })) })),
  c(`${name}: x disposed`, Error, [name, 'disposed'], () => { const x = gone(X(P4)); return { inputs: [], call: () => fn(x, any({ kernelSize: 2 })) }; }),
]).concat([
  c('maxPool2d: dilation 0', RangeError, ['maxPool2d', "'dilation'"], pool(POOLS[0][1], P4, { kernelSize: 2, dilation: 0 })),
  c('maxPool2d: empty output from dilation', RangeError, ['maxPool2d', 'empty', '[1,2,6,6]'], pool(POOLS[0][1], P4, { kernelSize: 3, dilation: 3 })),
  c('avgPool2d: dilation 2 unsupported', RangeError, ['avgPool2d', "'dilation'"], pool(POOLS[1][1], P4, { kernelSize: 2, dilation: 2 })),
  c('minPool2d: dilation 2 unsupported', RangeError, ['minPool2d', "'dilation'"], pool(POOLS[2][1], P4, { kernelSize: 2, dilation: 2 })),
  c('avgPool2d: countIncludePad 1', TypeError, ['avgPool2d', "'countIncludePad'"], pool(POOLS[1][1], P4, { kernelSize: 2, countIncludePad: 1 })),
  c('globalAvgPool2d: x rank 3', RangeError, ['globalAvgPool2d', "'x'", '[2,6,6]'], () => { const x = X([2, 6, 6]); return { inputs: [x], call: () => ops.globalAvgPool2d(x) }; }),
  c('globalMaxPool2d: x rank 2', RangeError, ['globalMaxPool2d', "'x'", '[6,6]'], () => { const x = X([6, 6]); return { inputs: [x], call: () => ops.globalMaxPool2d(x) }; }),
  c('globalAvgPool2d: x a Float32Array', TypeError, ['globalAvgPool2d', "'x'"], () => ({ inputs: [], call: () => ops.globalAvgPool2d(any(new Float32Array(4))) })),
  c('globalMaxPool2d: x disposed', Error, ['globalMaxPool2d', 'disposed'], () => { const x = gone(X(P4)); return { inputs: [], call: () => ops.globalMaxPool2d(x) }; }),
  c('globalAvgPool2d: zero spatial size', RangeError, ['globalAvgPool2d', '[1,2,0,6]'], () => { const x = X([1, 2, 0, 6]); return { inputs: [x], call: () => ops.globalAvgPool2d(x) }; }),
]);

// ---- normalisation ----------------------------------------------------------------------------
const bn = (xs: number[], o: (C: number) => Record<string, unknown>) => () => {
  const x = X(xs);
  const opts = o(xs[1] ?? 3);
  const inputs = [x, ...Object.values(opts).filter((v): v is Tensor => v instanceof Tensor && !v.disposed)];
  return { inputs, call: () => ops.batchNorm2d(x, any(opts)) };
};
const stats = (C: number) => ({ runningMean: X([C]), runningVar: tensor(new Float32Array(C).fill(1), [C]) });
const NORM: Case[] = [
  c('batchNorm2d: x rank 2', RangeError, ['batchNorm2d', "'x'", '[4,3]'], bn([4, 3], () => stats(3))),
  c('batchNorm2d: runningMean missing', TypeError, ['batchNorm2d', "'runningMean'"], bn([2, 3, 4, 4], (C) => ({ runningVar: X([C]) }))),
  c('batchNorm2d: options missing', TypeError, ['batchNorm2d', "'runningMean'"], () => { const x = X([2, 3, 4, 4]); return { inputs: [x], call: () => ops.batchNorm2d(x, any(undefined)) }; }),
  c('batchNorm2d: runningMean [4] for C=3', RangeError, ['batchNorm2d', "'runningMean'", '[3]', '[4]'], bn([2, 3, 4, 4], () => ({ ...stats(3), runningMean: X([4]) }))),
  c('batchNorm2d: runningVar [3,1]', RangeError, ['batchNorm2d', "'runningVar'", '[3,1]'], bn([2, 3, 4, 4], () => ({ ...stats(3), runningVar: X([3, 1]) }))),
  c('batchNorm2d: weight [2]', RangeError, ['batchNorm2d', "'weight'", '[3]', '[2]'], bn([2, 3, 4, 4], (C) => ({ ...stats(C), weight: X([2]) }))),
  c('batchNorm2d: bias [1,3,1,1]', RangeError, ['batchNorm2d', "'bias'", '[1,3,1,1]'], bn([2, 3, 4, 4], (C) => ({ ...stats(C), bias: X([1, 3, 1, 1]) }))),
  c('batchNorm2d: momentum 2', RangeError, ['batchNorm2d', "'momentum'"], bn([2, 3, 4, 4], (C) => ({ ...stats(C), momentum: 2 }))),
  c('batchNorm2d: momentum NaN', RangeError, ['batchNorm2d', "'momentum'"], bn([2, 3, 4, 4], (C) => ({ ...stats(C), momentum: NaN }))),
  c('batchNorm2d: eps -1', RangeError, ['batchNorm2d', "'eps'"], bn([2, 3, 4, 4], (C) => ({ ...stats(C), eps: -1 }))),
  c('batchNorm2d: eps NaN', RangeError, ['batchNorm2d', "'eps'"], bn([2, 3, 4, 4], (C) => ({ ...stats(C), eps: NaN }))),
  c("batchNorm2d: training 'yes'", TypeError, ['batchNorm2d', "'training'"], bn([2, 3, 4, 4], (C) => ({ ...stats(C), training: 'yes' }))),
  c('batchNorm2d: training with one value per channel', RangeError, ['batchNorm2d', 'training', '[1,3,1,1]'], bn([1, 3, 1, 1], (C) => ({ ...stats(C), training: true }))),
  c('batchNorm2d: runningVar disposed', Error, ['batchNorm2d', 'disposed'], bn([2, 3, 4, 4], (C) => ({ ...stats(C), runningVar: gone(X([C])) }))),
  c('batchNorm2d: runningMean an Array', TypeError, ['batchNorm2d', "'runningMean'", 'Array'], bn([2, 3, 4, 4], (C) => ({ ...stats(C), runningMean: [0, 0, 0] }))),
  c('layerNorm: normalizedShape [4] vs x [2,3]', RangeError, ['layerNorm', "'normalizedShape'", '[4]', '[2,3]'], () => { const x = X([2, 3]); return { inputs: [x], call: () => ops.layerNorm(x, [4]) }; }),
  c('layerNorm: normalizedShape a number', TypeError, ['layerNorm', "'normalizedShape'"], () => { const x = X([2, 3]); return { inputs: [x], call: () => ops.layerNorm(x, any(3)) }; }),
  c('layerNorm: normalizedShape empty', TypeError, ['layerNorm', "'normalizedShape'"], () => { const x = X([2, 3]); return { inputs: [x], call: () => ops.layerNorm(x, []) }; }),
  c('layerNorm: normalizedShape longer than x', RangeError, ['layerNorm', "'normalizedShape'", '[1,2,3]'], () => { const x = X([2, 3]); return { inputs: [x], call: () => ops.layerNorm(x, [1, 2, 3]) }; }),
  c('layerNorm: weight [3] for normalizedShape [2,3]', RangeError, ['layerNorm', "'weight'", '[2,3]', '[3]'], () => { const x = X([4, 2, 3]), w = X([3]); return { inputs: [x, w], call: () => ops.layerNorm(x, [2, 3], w) }; }),
  c('layerNorm: bias [2,4]', RangeError, ['layerNorm', "'bias'", '[2,4]'], () => { const x = X([4, 2, 3]), b = X([2, 4]); return { inputs: [x, b], call: () => ops.layerNorm(x, [2, 3], null, b) }; }),
  c('layerNorm: eps NaN', RangeError, ['layerNorm', "'eps'"], () => { const x = X([2, 3]); return { inputs: [x], call: () => ops.layerNorm(x, [3], null, null, NaN) }; }),
  c('layerNorm: x disposed', Error, ['layerNorm', 'disposed'], () => { const x = gone(X([2, 3])); return { inputs: [], call: () => ops.layerNorm(x, [3]) }; }),
  c('instanceNorm2d: x rank 3', RangeError, ['instanceNorm2d', "'x'", '[3,4,4]'], () => { const x = X([3, 4, 4]); return { inputs: [x], call: () => ops.instanceNorm2d(x) }; }),
  c('instanceNorm2d: weight [4] for C=3', RangeError, ['instanceNorm2d', "'weight'", '[3]', '[4]'], () => { const x = X([1, 3, 4, 4]), w = X([4]); return { inputs: [x, w], call: () => ops.instanceNorm2d(x, w) }; }),
  c('instanceNorm2d: bias [3,1]', RangeError, ['instanceNorm2d', "'bias'", '[3,1]'], () => { const x = X([1, 3, 4, 4]), b = X([3, 1]); return { inputs: [x, b], call: () => ops.instanceNorm2d(x, null, b) }; }),
  c('instanceNorm2d: eps -1', RangeError, ['instanceNorm2d', "'eps'"], () => { const x = X([1, 3, 4, 4]); return { inputs: [x], call: () => ops.instanceNorm2d(x, null, null, -1) }; }),
  c('instanceNorm2d: x a string', TypeError, ['instanceNorm2d', "'x'"], () => ({ inputs: [], call: () => ops.instanceNorm2d(any('x')) })),
  // One value per plane: PyTorch refuses ("Expected more than 1 spatial element"); it used to give zeros.
  c('instanceNorm2d: 1x1 spatial map', RangeError, ['instanceNorm2d', 'more than 1 spatial element', '[2,3,1,1]'], () => { const x = X([2, 3, 1, 1]); return { inputs: [x], call: () => ops.instanceNorm2d(x) }; }),
  c('instanceNorm2d: 1x1 spatial map with affine', RangeError, ['instanceNorm2d', 'more than 1 spatial element', '[1,3,1,1]'], () => { const x = X([1, 3, 1, 1]), w = X([3]), b = X([3]); return { inputs: [x, w, b], call: () => ops.instanceNorm2d(x, w, b) }; }),
  c('nn.InstanceNorm2d: 1x1 spatial map (eval)', RangeError, ['instanceNorm2d', 'more than 1 spatial element', '[4,2,1,1]'], () => { const x = X([4, 2, 1, 1]); const m = new nn.InstanceNorm2d(2, { affine: true }).eval(); return { inputs: [x], call: () => m.call(x) }; }),
];

// ---- linear / matmul / activations / softmax / elementwise / losses / shape ----------------------
const one = (op: string, shape: number[], f: (x: Tensor) => unknown) => () => { const x = X(shape); return { inputs: [x], call: () => f(x) }; };
const two = (as: number[], bs: number[], f: (a: Tensor, b: Tensor) => unknown) => () => { const a = X(as), b = X(bs); return { inputs: [a, b], call: () => f(a, b) }; };
const OTHER: Case[] = [
  c('linear: x rank 1', RangeError, ['linear', "'x'", '[3]'], two([3], [4, 3], (a, b) => ops.linear(a, b))),
  c('linear: weight rank 3', RangeError, ['linear', "'weight'", '[4,3,1]'], two([2, 3], [4, 3, 1], (a, b) => ops.linear(a, b))),
  c('linear: in-feature mismatch', RangeError, ['linear', '[2,3]', '[4,5]'], two([2, 3], [4, 5], (a, b) => ops.linear(a, b))),
  c('linear: bias [3] for out 4', RangeError, ['linear', "'bias'", '[4]', '[3]'], () => { const x = X([2, 3]), w = X([4, 3]), b = X([3]); return { inputs: [x, w, b], call: () => ops.linear(x, w, b) }; }),
  c('linear: x an Array', TypeError, ['linear', "'x'", 'Array'], () => { const w = X([4, 3]); return { inputs: [w], call: () => ops.linear(any([[1, 2, 3]]), w) }; }),
  c('linear: weight disposed', Error, ['linear', 'disposed'], () => { const x = X([2, 3]), w = gone(X([4, 3])); return { inputs: [x], call: () => ops.linear(x, w) }; }),
  c('matmul: inner mismatch', RangeError, ['matmul', '[2,3]', '[4,5]'], two([2, 3], [4, 5], (a, b) => ops.matmul(a, b))),
  c('matmul: a rank 3', RangeError, ['matmul', "'a'", '[1,2,3]'], two([1, 2, 3], [3, 5], (a, b) => ops.matmul(a, b))),
  c('relu: x an Array', TypeError, ['relu', "'x'", 'Array'], () => ({ inputs: [], call: () => ops.relu(any([1, -1])) })),
  c('sigmoid: x a string', TypeError, ['sigmoid', "'x'"], () => ({ inputs: [], call: () => ops.sigmoid(any('1')) })),
  c('tanh: x null', TypeError, ['tanh', "'x'", 'null'], () => ({ inputs: [], call: () => ops.tanh(any(null)) })),
  c('leakyRelu: slope NaN', RangeError, ['leakyRelu', "'slope'"], one('leakyRelu', [3], (x) => ops.leakyRelu(x, NaN))),
  c("leakyRelu: slope '0.1'", TypeError, ['leakyRelu', "'slope'"], one('leakyRelu', [3], (x) => ops.leakyRelu(x, any('0.1')))),
  c('relu: x disposed', Error, ['relu', 'disposed'], () => { const x = gone(X([3])); return { inputs: [], call: () => ops.relu(x) }; }),
  c('softmax: dim 2 on rank 2', RangeError, ['softmax', "'dim'", '[2,3]'], one('softmax', [2, 3], (x) => ops.softmax(x, 2))),
  c('softmax: dim -3 on rank 2', RangeError, ['softmax', "'dim'"], one('softmax', [2, 3], (x) => ops.softmax(x, -3))),
  c('softmax: dim 1.5', RangeError, ['softmax', "'dim'"], one('softmax', [2, 3], (x) => ops.softmax(x, 1.5))),
  c('softmax: dim NaN', RangeError, ['softmax', "'dim'"], one('softmax', [2, 3], (x) => ops.softmax(x, NaN))),
  c("softmax: dim '1'", TypeError, ['softmax', "'dim'"], one('softmax', [2, 3], (x) => ops.softmax(x, any('1')))),
  c('logSoftmax: dim 5 on rank 4', RangeError, ['logSoftmax', "'dim'", '[1,2,3,4]'], one('logSoftmax', [1, 2, 3, 4], (x) => ops.logSoftmax(x, 5))),
  c('softmax: default dim 1 on rank 1', RangeError, ['softmax', "'dim'", '[5]'], one('softmax', [5], (x) => ops.softmax(x))),
  c('softmax: x disposed', Error, ['softmax', 'disposed'], () => { const x = gone(X([2, 3])); return { inputs: [], call: () => ops.softmax(x) }; }),
  c('add: shape mismatch', RangeError, ['add', '[2,3,4,4]', '[2,3,4,5]'], two([2, 3, 4, 4], [2, 3, 4, 5], (a, b) => ops.add(a, b))),
  c('add: broadcast channels differ', RangeError, ['add', '[2,3,4,4]', '[1,4,1,1]'], two([2, 3, 4, 4], [1, 4, 1, 1], (a, b) => ops.add(a, b))),
  c('add: b [3] (rank differs)', RangeError, ['add', '[2,3,4,4]', '[3]'], two([2, 3, 4, 4], [3], (a, b) => ops.add(a, b))),
  c('mul: b [2,3,1,1] (batch not 1)', RangeError, ['mul', '[2,3,4,4]', '[2,3,1,1]'], two([2, 3, 4, 4], [2, 3, 1, 1], (a, b) => ops.mul(a, b))),
  c('mul: a bigger than b the other way', RangeError, ['mul', '[1,3,1,1]', '[2,3,4,4]'], two([1, 3, 1, 1], [2, 3, 4, 4], (a, b) => ops.mul(a, b))),
  c('add: a an Array', TypeError, ['add', "'a'", 'Array'], () => { const b = X([2]); return { inputs: [b], call: () => ops.add(any([1, 2]), b) }; }),
  c('mul: b disposed', Error, ['mul', 'disposed'], () => { const a = X([2]), b = gone(X([2])); return { inputs: [a], call: () => ops.mul(a, b) }; }),
  c('mul: b a number', TypeError, ['mul', "'b'"], () => { const a = X([2]); return { inputs: [a], call: () => ops.mul(a, any(2)) }; }),
  c('crossEntropy: target = K out of range', RangeError, ['crossEntropy', 'targets[1]', '3'], one('crossEntropy', [2, 3], (x) => ops.crossEntropy(x, [0, 3]))),
  c('crossEntropy: negative target', RangeError, ['crossEntropy', 'targets[0]', '-1'], one('crossEntropy', [2, 3], (x) => ops.crossEntropy(x, [-1, 0]))),
  c('crossEntropy: non-integer target', RangeError, ['crossEntropy', 'targets[0]', '1.5'], one('crossEntropy', [2, 3], (x) => ops.crossEntropy(x, [1.5, 0]))),
  c('crossEntropy: NaN target', RangeError, ['crossEntropy', 'targets[1]', 'NaN'], one('crossEntropy', [2, 3], (x) => ops.crossEntropy(x, [0, NaN]))),
  c('crossEntropy: Int32Array target out of range', RangeError, ['crossEntropy', 'targets[0]', '7'], one('crossEntropy', [2, 3], (x) => ops.crossEntropy(x, Int32Array.of(7, 0)))),
  c('crossEntropy: wrong number of targets', RangeError, ['crossEntropy', "'targets'", '3 entries', 'expected 2'], one('crossEntropy', [2, 3], (x) => ops.crossEntropy(x, [0, 1, 2]))),
  c('crossEntropy: targets a string', TypeError, ['crossEntropy', "'targets'"], one('crossEntropy', [2, 3], (x) => ops.crossEntropy(x, any('01')))),
  c('crossEntropy: targets a Float32Array', TypeError, ['crossEntropy', "'targets'", 'Float32Array'], one('crossEntropy', [2, 3], (x) => ops.crossEntropy(x, any(new Float32Array(2))))),
  c('crossEntropy: logits rank 3', RangeError, ['crossEntropy', "'logits'", '[2,3,1]'], one('crossEntropy', [2, 3, 1], (x) => ops.crossEntropy(x, [0, 1]))),
  c('crossEntropy: logits rank 1', RangeError, ['crossEntropy', "'logits'", '[3]'], one('crossEntropy', [3], (x) => ops.crossEntropy(x, [0]))),
  c('mseLoss: shape mismatch', RangeError, ['mseLoss', '[2,3]', '[3,2]'], two([2, 3], [3, 2], (a, b) => ops.mseLoss(a, b))),
  c('mseLoss: a an Array', TypeError, ['mseLoss', "'a'"], () => { const b = X([2]); return { inputs: [b], call: () => ops.mseLoss(any([1, 2]), b) }; }),
  c('mseLoss: b disposed', Error, ['mseLoss', 'disposed'], () => { const a = X([2]), b = gone(X([2])); return { inputs: [a], call: () => ops.mseLoss(a, b) }; }),
  c('flatten: startDim 4 on rank 4', RangeError, ['flatten', "'startDim'", '[1,2,3,4]'], one('flatten', [1, 2, 3, 4], (x) => ops.flatten(x, 4))),
  c('flatten: startDim 1.5', RangeError, ['flatten', "'startDim'"], one('flatten', [1, 2, 3, 4], (x) => ops.flatten(x, 1.5))),
  c('dropout: p 1.5', RangeError, ['dropout', "'p'"], one('dropout', [4], (x) => ops.dropout(x, 1.5, true))),
  c('dropout: p NaN', RangeError, ['dropout', "'p'"], one('dropout', [4], (x) => ops.dropout(x, NaN, true))),
  c("dropout: training 'x'", TypeError, ['dropout', "'training'"], one('dropout', [4], (x) => ops.dropout(x, 0.5, any('x')))),
  c('reshape: 24 elements into [5,5]', RangeError, ['reshape', '[2,3,4]', '[5,5]'], one('reshape', [2, 3, 4], (x) => x.reshape([5, 5]))),
  c('reshape: two -1', RangeError, ['reshape', '-1'], one('reshape', [2, 3, 4], (x) => x.reshape([-1, -1]))),
  c('reshape: -1 that does not divide', RangeError, ['reshape', '[2,3,4]', '[5,-1]'], one('reshape', [2, 3, 4], (x) => x.reshape([5, -1]))),
  c('reshape: -2', RangeError, ['reshape', '[-2,-12]'], one('reshape', [2, 3, 4], (x) => x.reshape([-2, -12]))),
  c('reshape: 1.5', RangeError, ['reshape', '[1.5,16]'], one('reshape', [2, 3, 4], (x) => x.reshape([1.5, 16]))),
  c('reshape: not an array', TypeError, ['reshape', 'shape'], one('reshape', [2, 3, 4], (x) => x.reshape(any(24)))),
  c('reshape: disposed', Error, ['reshape', 'disposed'], () => { const x = gone(X([2, 3])); return { inputs: [], call: () => x.reshape([6]) }; }),
  c('Tensor.from: length mismatch', RangeError, ['Tensor.from', '3 elements', '[2,2]'], () => ({ inputs: [], call: () => Tensor.from([1, 2, 3], [2, 2]) })),
  c('tensor: negative dim', RangeError, ['Tensor.from', '[2,-2]'], () => ({ inputs: [], call: () => tensor([1, 2, 3, 4], [2, -2]) })),
  c('tensor: data a string', TypeError, ['Tensor.from', 'data'], () => ({ inputs: [], call: () => tensor(any('1234'), [4]) })),
  // Non-numeric elements used to become NaN (or 0) silently.
  c('Tensor.from: a string element', TypeError, ['Tensor.from', 'data[1]', "string 'a'"], () => ({ inputs: [], call: () => Tensor.from(any([1, 'a', 3]), [3]) })),
  c('Tensor.from: an object element', TypeError, ['Tensor.from', 'data[1]', 'an object (Object)'], () => ({ inputs: [], call: () => Tensor.from(any([1, {}, 3]), [3]) })),
  c('Tensor.from: a numeric string element', TypeError, ['Tensor.from', 'data[0]', "string '1'"], () => ({ inputs: [], call: () => Tensor.from(any(['1', 2]), [2]) })),
  c('Tensor.from: a null element', TypeError, ['Tensor.from', 'data[2]', 'null'], () => ({ inputs: [], call: () => Tensor.from(any([1, 2, null]), [3]) })),
  c('Tensor.from: a hole', TypeError, ['Tensor.from', 'data[1]', 'undefined'], () => ({ inputs: [], call: () => Tensor.from(any([1, , 3]), [3]) })),
  c('Tensor.from: a boolean element', TypeError, ['Tensor.from', 'data[0]', 'boolean true'], () => ({ inputs: [], call: () => Tensor.from(any([true, 0]), [2]) })),
  c('Tensor.from: nested arrays', TypeError, ['Tensor.from', 'data[0]', 'nested'], () => ({ inputs: [], call: () => Tensor.from(any([[1, 2], [3, 4]]), [2]) })),
  c('Tensor.from: a BigInt64Array', TypeError, ['Tensor.from', 'BigInt64Array'], () => ({ inputs: [], call: () => Tensor.from(any(BigInt64Array.of(1n, 2n)), [2]) })),
  c('tensor: an object element', TypeError, ['Tensor.from', 'data[3]', 'an object (Date)'], () => ({ inputs: [], call: () => tensor(any([1, 2, 3, new Date(0)]), [2, 2]) })),
  c('outputSize: kernel 0', RangeError, ['outputSize', "'kernelSize'"], () => ({ inputs: [], call: () => ops.outputSize(7, 0) })),
  c('outputSize: input 0', RangeError, ['outputSize', "'inputSize'"], () => ({ inputs: [], call: () => ops.outputSize(0, 3) })),
  c('outputSize: empty output', RangeError, ['outputSize', 'empty'], () => ({ inputs: [], call: () => ops.outputSize(2, 3) })),
  c("outputSize: padding 'x'", TypeError, ['outputSize', "'padding'"], () => ({ inputs: [], call: () => ops.outputSize(7, 3, any({ padding: 'x' })) })),
  c('outputSize: stride NaN', RangeError, ['outputSize', "'stride'"], () => ({ inputs: [], call: () => ops.outputSize(7, 3, { stride: NaN }) })),
];

const ALL_CASES = [...CONV, ...POOL, ...NORM, ...OTHER];

describe('bad-input matrix', () => {
  it('has at least 120 cases', () => {
    expect(ALL_CASES.length).toBeGreaterThanOrEqual(120);
    expect(new Set(ALL_CASES.map((k) => k.name)).size).toBe(ALL_CASES.length);
  });
});

describe.each(BACKENDS)('bad inputs throw the right error, leave inputs unchanged (%s backend)', (be) => {
  afterEach(() => setBackend('native'));
  it.each(ALL_CASES.map((k) => [k.name, k] as const))('%s', (_n, k) => {
    setBackend(be);
    const { inputs, call } = k.make();
    const before = inputs.map((t) => t.toArray());
    let err: unknown = null;
    try { call(); } catch (e) { err = e; }
    expect(err, `${k.name}: did not throw`).not.toBeNull();
    const e = err as Error;
    const cls = k.cls;
    expect(e, `${k.name}: expected ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`).toBeInstanceOf(cls);
    if (cls === Error) expect(e.message).toContain('disposed');
    else expect(e.constructor, `${k.name}: expected exactly ${cls.name}, got ${e.constructor.name}: ${e.message}`).toBe(cls);
    for (const s of k.msg) expect(e.message, `${k.name}: message should mention ${s}`).toContain(s);
    // inputs unchanged
    inputs.forEach((t, i) => expect(Array.from(t.toArray()), `${k.name}: input ${i} changed`).toEqual(Array.from(before[i])));
    // the process lives on
    expect(Array.from(ops.relu(tensor([1, -2], [2])).toArray())).toEqual([1, 0]);
  });
});

// ---- the addon directly ---------------------------------------------------------------------------
describe('addon called directly with hostile arguments throws TypeError/RangeError', () => {
  const A = () => getAddon() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const f = (n: number) => new Float32Array(n);
  // a valid conv: x [1,2,5,5], w [3,2,3,3] -> out [1,3,3,3]
  const G = [1, 2, 5, 5, 3, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1];
  const PG = [1, 2, 6, 6, 2, 2, 2, 2, 0, 0, 1, 1, 0];
  const HUGE = 2 ** 31;
  const hostile: [string, () => unknown][] = [
    ['conv2d: no arguments', () => A().conv2d()],
    ['conv2d: x wrong length', () => A().conv2d(f(49), f(54), null, f(27), G, 0)],
    ['conv2d: w wrong length', () => A().conv2d(f(50), f(53), null, f(27), G, 0)],
    ['conv2d: out wrong length', () => A().conv2d(f(50), f(54), null, f(26), G, 0)],
    ['conv2d: bias wrong length', () => A().conv2d(f(50), f(54), f(4), f(27), G, 0)],
    ['conv2d: x a Float64Array', () => A().conv2d(new Float64Array(50), f(54), null, f(27), G, 0)],
    ['conv2d: x a plain array', () => A().conv2d(Array(50).fill(0), f(54), null, f(27), G, 0)],
    ['conv2d: x an ArrayBuffer', () => A().conv2d(new ArrayBuffer(200), f(54), null, f(27), G, 0)],
    ['conv2d: geom with NaN', () => A().conv2d(f(50), f(54), null, f(27), [NaN, ...G.slice(1)], 0)],
    ['conv2d: geom with Infinity stride', () => A().conv2d(f(50), f(54), null, f(27), G.map((v, i) => (i === 7 ? Infinity : v)), 0)],
    ['conv2d: geom with 1.5', () => A().conv2d(f(50), f(54), null, f(27), G.map((v, i) => (i === 5 ? 1.5 : v)), 0)],
    ['conv2d: geom with a string', () => A().conv2d(f(50), f(54), null, f(27), G.map((v, i) => (i === 0 ? '1' : v)), 0)],
    ['conv2d: geom too short', () => A().conv2d(f(50), f(54), null, f(27), G.slice(0, 15), 0)],
    ['conv2d: geom not an array', () => A().conv2d(f(50), f(54), null, f(27), 'geom', 0)],
    ['conv2d: negative stride', () => A().conv2d(f(50), f(54), null, f(27), G.map((v, i) => (i === 7 ? -1 : v)), 0)],
    ['conv2d: zero dilation', () => A().conv2d(f(50), f(54), null, f(27), G.map((v, i) => (i === 13 ? 0 : v)), 0)],
    ['conv2d: negative padding', () => A().conv2d(f(50), f(54), null, f(27), G.map((v, i) => (i === 9 ? -5 : v)), 0)],
    ['conv2d: groups 0', () => A().conv2d(f(50), f(54), null, f(27), G.map((v, i) => (i === 15 ? 0 : v)), 0)],
    ['conv2d: groups not dividing', () => A().conv2d(f(50), f(54), null, f(27), G.map((v, i) => (i === 15 ? 3 : v)), 0)],
    ['conv2d: huge N', () => A().conv2d(f(50), f(54), null, f(27), G.map((v, i) => (i === 0 ? HUGE : v)), 0)],
    ['conv2d: dims whose product overflows int64', () => A().conv2d(f(50), f(54), null, f(27), [2 ** 30, 2 ** 30, 2 ** 30, 2 ** 30, 3, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1], 0)],
    ['conv2d: kernel larger than input (empty output)', () => A().conv2d(f(50), f(2 * 3 * 49), null, f(3), [1, 2, 5, 5, 3, 7, 7, 1, 1, 0, 0, 0, 0, 1, 1, 1], 0)],
    ['conv2d: act 12 (past gelu)', () => A().conv2d(f(50), f(54), null, f(27), G, 12)],
    ['conv2d: act -1', () => A().conv2d(f(50), f(54), null, f(27), G, -1)],
    ['conv2d: clip act with NaN min', () => A().conv2d(f(50), f(54), null, f(27), G, 5, NaN, 6)],
    ['conv2d: clip act with min above max', () => A().conv2d(f(50), f(54), null, f(27), G, 5, 6, 0)],
    ['conv2d: leakyRelu act with infinite slope', () => A().conv2d(f(50), f(54), null, f(27), G, 2, Infinity)],
    ['conv2d: act parameter a string', () => A().conv2d(f(50), f(54), null, f(27), G, 7, '0.2')],
    ['conv2d: 2^53 in geom', () => A().conv2d(f(50), f(54), null, f(27), G.map((v, i) => (i === 2 ? 2 ** 53 : v)), 0)],
    ['pool2d: no arguments', () => A().pool2d()],
    ['pool2d: out wrong length', () => A().pool2d(f(72), f(17), PG, 0, true)],
    ['pool2d: geom with NaN', () => A().pool2d(f(72), f(18), PG.map((v, i) => (i === 4 ? NaN : v)), 0, true)],
    ['pool2d: mode 9', () => A().pool2d(f(72), f(18), PG, 9, true)],
    ['pool2d: countIncludePad a string', () => A().pool2d(f(72), f(18), PG, 1, 'yes')],
    ['pool2d: huge C', () => A().pool2d(f(72), f(18), PG.map((v, i) => (i === 1 ? HUGE : v)), 0, true)],
    ['pool2d: x a Uint8Array', () => A().pool2d(new Uint8Array(72), f(18), PG, 0, true)],
    ['globalPool2d: dims mismatch', () => A().globalPool2d(f(10), f(2), [1, 2, 6], 0)],
    ['globalPool2d: mode 3', () => A().globalPool2d(f(12), f(2), [1, 2, 6], 3)],
    ['globalPool2d: dims [-1, 2, 6]', () => A().globalPool2d(f(12), f(2), [-1, 2, 6], 0)],
    ['batchNorm2d: mean wrong length', () => A().batchNorm2d(f(12), f(12), [1, 2, 6], f(3), f(2), null, null, 1e-5)],
    ['batchNorm2d: eps NaN', () => A().batchNorm2d(f(12), f(12), [1, 2, 6], f(2), f(2), null, null, NaN)],
    ['batchNorm2d: eps a string', () => A().batchNorm2d(f(12), f(12), [1, 2, 6], f(2), f(2), null, null, '1e-5')],
    ['batchNorm2d: weight wrong length', () => A().batchNorm2d(f(12), f(12), [1, 2, 6], f(2), f(2), f(1), null, 1e-5)],
    ['channelStats: variance wrong length', () => A().channelStats(f(12), [1, 2, 6], f(2), f(3))],
    ['channelStats: huge dims', () => A().channelStats(f(12), [HUGE, HUGE, 6], f(2), f(2))],
    ['layerNorm: weight wrong length', () => A().layerNorm(f(12), f(12), [2, 6], f(5), null, 1e-5)],
    ['layerNorm: dims product != length', () => A().layerNorm(f(12), f(12), [3, 6], null, null, 1e-5)],
    ['instanceNorm2d: bias wrong length', () => A().instanceNorm2d(f(12), f(12), [1, 2, 6], null, f(3), 1e-5)],
    ['instanceNorm2d: eps Infinity', () => A().instanceNorm2d(f(12), f(12), [1, 2, 6], null, null, Infinity)],
    ['linear: dims mismatch', () => A().linear(f(6), f(12), null, f(8), [2, 3, 5])],
    ['linear: dims missing', () => A().linear(f(6), f(12), null, f(8))],
    ['linear: huge dims', () => A().linear(f(6), f(12), null, f(8), [HUGE, HUGE, HUGE])],
    ['matmul: dims mismatch', () => A().matmul(f(6), f(12), f(8), [2, 3, 5])],
    ['unary: out wrong length', () => A().unary(f(6), f(5), 0, 0)],
    ['unary: kind 99', () => A().unary(f(6), f(6), 99, 0)],
    ['unary: x undefined', () => A().unary(undefined, f(6), 0, 0)],
    ['unary: alpha NaN', () => A().unary(f(6), f(6), 1, NaN)],
    ['softmax: dims mismatch', () => A().softmax(f(6), f(6), [2, 2, 2], false)],
    ['softmax: log not a boolean', () => A().softmax(f(6), f(6), [1, 6, 1], 1)],
    ['binary: b wrong length (channel mode)', () => A().binary(f(12), f(3), f(12), [1, 2, 6], 0, 1)],
    ['binary: b wrong length (same mode)', () => A().binary(f(12), f(11), f(12), [1, 1, 12], 0, 0)],
    ['binary: kind 9', () => A().binary(f(12), f(12), f(12), [1, 1, 12], 9, 0)],
    ['binary: bMode 5', () => A().binary(f(12), f(12), f(12), [1, 1, 12], 0, 5)],
    ['copyStrided: out too short', () => A().copyStrided(f(12), f(11), 1, [4, 3, 4, 4])],
    ['copyStrided: x too short for its stride', () => A().copyStrided(f(12), f(24), 1, [4, 3, 5, 8])],
    ['copyStrided: out overlaps x', () => { const b = f(24); A().copyStrided(b.subarray(0, 12), b.subarray(8), 1, [4, 3, 4, 4]); }],
    ['copyStrided: negative stride', () => A().copyStrided(f(12), f(12), 1, [4, 3, -4, 4])],
    ['copyStrided: rank 7', () => A().copyStrided(f(12), f(12), 7, new Array(22).fill(1))],
    ['copyStrided: dims of the wrong length', () => A().copyStrided(f(12), f(12), 2, [4, 3, 4, 4])],
    ['copyStrided: an axis spanning past 2^31', () => A().copyStrided(f(12), f(12), 2, [1, 2 ** 30, 2 ** 30, 1, 2 ** 30, 1, 1])],
    ['copyStrided: dims missing', () => A().copyStrided(f(12), f(12), 1)],
    ['crossEntropy: target out of range', () => A().crossEntropy(f(6), Int32Array.of(0, 3), [2, 3])],
    ['crossEntropy: negative target', () => A().crossEntropy(f(6), Int32Array.of(-1, 0), [2, 3])],
    ['crossEntropy: targets a Float32Array', () => A().crossEntropy(f(6), Float32Array.of(0, 1), [2, 3])],
    ['crossEntropy: targets wrong length', () => A().crossEntropy(f(6), Int32Array.of(0), [2, 3])],
    ['crossEntropy: logits wrong length', () => A().crossEntropy(f(5), Int32Array.of(0, 1), [2, 3])],
    ['mseLoss: lengths differ', () => A().mseLoss(f(6), f(5))],
    ['mseLoss: b not a typed array', () => A().mseLoss(f(6), { length: 6 })],
    ['setNumThreads: 0', () => A().setNumThreads(0)],
    ['setNumThreads: NaN', () => A().setNumThreads(NaN)],
    ['setNumThreads: a string', () => A().setNumThreads('2')],
    ['setNumThreads: 1e9', () => A().setNumThreads(1e9)],
  ];

  it.each(hostile)('%s', (name, call) => {
    let err: unknown = null;
    try { call(); } catch (e) { err = e; }
    expect(err, `${name}: did not throw`).not.toBeNull();
    const ok = err instanceof TypeError || err instanceof RangeError;
    expect(ok, `${name}: threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`).toBe(true);
    // still alive and answering
    expect(typeof A().cpuInfo()).toBe('object');
  });

  it('the addon still computes a correct conv after the hostile calls', () => {
    const out = f(27);
    A().conv2d(new Float32Array(50).fill(1), new Float32Array(54).fill(1), null, out, G, 0);
    expect(Array.from(out)).toEqual(new Array(27).fill(18));
  });

  it('setNumThreads (public) validates too', () => {
    const n = getNumThreads();
    expect(() => setNumThreads(0)).toThrow(RangeError);
    expect(() => setNumThreads(1.5)).toThrow(RangeError);
    expect(() => setNumThreads(any('2'))).toThrow(TypeError);
    expect(getNumThreads()).toBe(n);
  });
});

// ---- what the input checks still accept --------------------------------------------------------
describe('Tensor.from, conv2d and instanceNorm2d still accept what they should', () => {
  it('Tensor.from keeps NaN, Infinity and -0 as numbers, and converts other typed arrays', () => {
    const t = Tensor.from([NaN, Infinity, -Infinity, -0, 1.5], [5]);
    const a = t.toArray();
    expect(Number.isNaN(a[0])).toBe(true);
    expect(Array.from(a.slice(1))).toEqual([Infinity, -Infinity, -0, 1.5]);
    expect(Object.is(a[3], -0)).toBe(true);
    expect(Array.from(tensor(Float64Array.of(0.5, -2, 1e40), [3]).toArray())).toEqual([0.5, -2, Infinity]);
    expect(Array.from(tensor(Int32Array.of(-3, 7), [2]).toArray())).toEqual([-3, 7]);
    expect(Array.from(tensor(Uint8Array.of(255, 0, 1), [3]).toArray())).toEqual([255, 0, 1]);
    const f = Float32Array.of(1, NaN, 3);
    const g = Tensor.from(f, [3]).toArray();
    expect(g).not.toBe(f);  // copied
    expect(Array.from(g)).toEqual([1, NaN, 3]);
    // An array-like object of numbers goes through the element checks too.
    expect(Array.from(Tensor.from({ length: 2, 0: 4, 1: 5 } as ArrayLike<number>, [2]).toArray())).toEqual([4, 5]);
  });

  it('conv2d with a large but representable padding still runs', () => {
    const x = tensor(new Float32Array(1).fill(2), [1, 1, 1, 1]);
    const w = tensor(new Float32Array(1).fill(3), [1, 1, 1, 1]);
    const y = ops.conv2d(x, w, null, { padding: [0, 0, 0, 20000] });  // [1,1,1,20001]
    expect(y.shape).toEqual([1, 1, 1, 20001]);
    expect(y.data[0]).toBe(6);
    expect(y.data[20000]).toBe(0);
  });

  it('instanceNorm2d on the smallest plane (1x2) normalises it', () => {
    const y = ops.instanceNorm2d(tensor([1, 3, -5, 5], [1, 2, 1, 2]), null, null, 0);
    expect(Array.from(y.toArray())).toEqual([-1, 1, -1, 1]);
  });
});

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { loadOnnx, parseOnnx, buildOnnxModel, onnxFromStateDict } from '../lib/io/onnx/index';
import type { OnnxNodeSpec, OnnxInitializer, OnnxAttr } from '../lib/io/onnx/index';
import { Writer } from '../lib/io/onnx/protobuf';
import { Tensor, randn, rand, tidy, liveStats } from '../lib/tensor';
import * as ops from '../lib/ops/index';
import { noGrad } from '../lib/autograd/tape';
import { memory } from '../lib/index';

// onnxruntime-node is a devDependency; the cross-checks are skipped where it is missing.
type Ort = {
  InferenceSession: { create(b: Uint8Array): Promise<{ run(f: Record<string, unknown>): Promise<Record<string, { data: Float32Array; dims: number[] }>> }> };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown;
};
let ort: Ort | null = null;
try {
  ort = createRequire(__filename)('onnxruntime-node') as Ort;
} catch {
  ort = null;
}

let dir = '';
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdcnn-onnx-')); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

let seed = 100;
const rn = (shape: number[]): Tensor => randn(shape, { seed: seed++ });

function maxDiff(a: Float32Array, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function expectClose(got: Tensor, want: Tensor | { shape: readonly number[]; data: ArrayLike<number> }, tol = 1e-5): void {
  expect([...got.shape]).toEqual([...want.shape]);
  const w = want instanceof Tensor ? want.toArray() : want.data;
  let scale = 1;
  for (let i = 0; i < w.length; i++) scale = Math.max(scale, Math.abs(w[i]));
  expect(maxDiff(got.toArray(), w)).toBeLessThanOrEqual(tol * scale);
}

async function ortRun(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<{ shape: number[]; data: Float32Array }> {
  const s = await ort!.InferenceSession.create(bytes);
  const f: Record<string, unknown> = {};
  for (const [k, t] of Object.entries(feeds)) f[k] = new ort!.Tensor('float32', t.toArray(), [...t.shape]);
  const r = await s.run(f);
  const out = Object.values(r)[0];
  return { shape: out.dims.map(Number), data: out.data };
}

interface OneOp {
  op: string;
  attrs?: Record<string, OnnxAttr>;
  /** Runtime input shape (the graph input 'x'). */
  x: number[];
  /** Extra inputs: constants (initializers) by name, in order after x; '' for an absent slot. */
  consts?: [string, OnnxInitializer][];
  opset?: number;
  extraInputs?: string[];
  rawData?: boolean;
}

/** Builds a one-node model, runs it with loadOnnx and (when present) ORT; returns both outputs. */
async function one(spec: OneOp): Promise<{ x: Tensor; y: Tensor; inits: Record<string, Tensor> }> {
  const x = rn(spec.x);
  const initializers: Record<string, OnnxInitializer> = {};
  const inits: Record<string, Tensor> = {};
  const inputs = ['x'];
  for (const [name, v] of spec.consts ?? []) {
    inputs.push(name);
    if (name) { initializers[name] = v; if (v instanceof Tensor) inits[name] = v; }
  }
  const bytes = buildOnnxModel({
    nodes: [{ op: spec.op, inputs, outputs: ['y'], attrs: spec.attrs }], initializers,
    inputs: [{ name: 'x', shape: spec.x }], outputs: ['y'], opset: spec.opset ?? 13, rawData: spec.rawData,
  });
  const m = await loadOnnx(bytes);
  const y = m.run(x);
  if (ort) expectClose(y, await ortRun(bytes, { x }), 2e-5);
  m.dispose();
  return { x, y, inits };
}

describe('protobuf wire format', () => {
  it('round-trips varints, negative int64, floats and packed fields through the model decoder', async () => {
    // A Reshape whose shape holds -1 exercises 10-byte negative varints in packed int64_data.
    const bytes = buildOnnxModel({
      nodes: [{ op: 'Reshape', inputs: ['x', 's'], outputs: ['y'] }],
      initializers: { s: { dims: [2], int64: [-1, 300] } },
      inputs: [{ name: 'x', shape: [2, 3, 100] }], outputs: ['y'],
    });
    const m = await loadOnnx(bytes);
    expect(m.run(rn([2, 3, 100])).shape).toEqual([2, 300]);
    expect(m.inputs).toEqual([{ name: 'x', shape: [2, 3, 100] }]);
    expect(m.outputs[0].name).toBe('y');
  });

  it('reads float_data and raw_data payloads alike', async () => {
    const w = rn([2, 3, 3, 3]);
    for (const rawData of [true, false]) {
      const { x, y } = await one({ op: 'Conv', x: [1, 3, 5, 5], consts: [['w', w]], attrs: { kernel_shape: [3, 3] }, rawData });
      expectClose(y, ops.conv2d(x, w));
    }
  });
});

describe('operators against simdcnn ops (and onnxruntime)', () => {
  it('Conv: explicit asymmetric pads, stride, dilation, groups, bias', async () => {
    const w = rn([6, 2, 3, 3]), b = rn([6]);
    const { x, y } = await one({
      op: 'Conv', x: [2, 4, 9, 8], consts: [['w', w], ['b', b]],
      attrs: { kernel_shape: [3, 3], pads: [1, 0, 2, 1], strides: [2, 1], dilations: [1, 2], group: 2 },
    });
    expectClose(y, ops.conv2d(x, w, b, { padding: [1, 0, 2, 1], stride: [2, 1], dilation: [1, 2], groups: 2 }));
  });

  it('Conv auto_pad SAME_UPPER / SAME_LOWER / VALID', async () => {
    const w = rn([3, 2, 4, 3]);
    const cases: [string, number[]][] = [
      // 9x10, k 4x3, stride 2: total pad H = (5-1)*2+4-9 = 3, W = (5-1)*2+3-10 = 1
      ['SAME_UPPER', [1, 0, 2, 1]], ['SAME_LOWER', [2, 1, 1, 0]], ['VALID', [0, 0, 0, 0]],
    ];
    for (const [mode, pads] of cases) {
      const { x, y } = await one({ op: 'Conv', x: [1, 2, 9, 10], consts: [['w', w]], attrs: { auto_pad: mode, strides: [2, 2] } });
      expectClose(y, ops.conv2d(x, w, null, { stride: 2, padding: pads as [number, number, number, number] }));
      if (mode !== 'VALID') expect(y.shape.slice(2)).toEqual([5, 5]);
    }
  });

  it('BatchNormalization (eval, epsilon)', async () => {
    const C = 5;
    const sc = rn([C]), bi = rn([C]), mean = rn([C]), v = rand([C], { seed: 7 });
    const { x, y } = await one({
      op: 'BatchNormalization', x: [2, C, 4, 3], consts: [['s', sc], ['b', bi], ['m', mean], ['v', v]], attrs: { epsilon: 1e-3 },
    });
    expectClose(y, ops.batchNorm2d(x, { runningMean: mean, runningVar: v, weight: sc, bias: bi, eps: 1e-3 }));
  });

  it('Relu, LeakyRelu, Sigmoid, Tanh', async () => {
    let r = await one({ op: 'Relu', x: [2, 3, 4] });
    expectClose(r.y, ops.relu(r.x));
    r = await one({ op: 'LeakyRelu', x: [2, 3, 4], attrs: { alpha: 0.2 } });
    expectClose(r.y, ops.leakyRelu(r.x, 0.2));
    r = await one({ op: 'Sigmoid', x: [5, 7] });
    expectClose(r.y, ops.sigmoid(r.x));
    r = await one({ op: 'Tanh', x: [5, 7] });
    expectClose(r.y, ops.tanh(r.x));
  });

  it('MaxPool: symmetric pads, ceil_mode, dilation, and asymmetric SAME padding', async () => {
    let r = await one({ op: 'MaxPool', x: [1, 2, 9, 9], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } });
    expectClose(r.y, ops.maxPool2d(r.x, { kernelSize: 3, stride: 2, padding: 1 }));
    r = await one({ op: 'MaxPool', x: [1, 2, 8, 8], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } });
    expectClose(r.y, ops.maxPool2d(r.x, { kernelSize: 3, stride: 2, ceilMode: true }));
    r = await one({ op: 'MaxPool', x: [1, 2, 9, 9], attrs: { kernel_shape: [2, 2], dilations: [2, 2] } });
    expectClose(r.y, ops.maxPool2d(r.x, { kernelSize: 2, stride: 1, dilation: 2 }));
    // Stride 1 with kernel 2 pads one pixel at the end only: the general path (checked against ORT).
    r = await one({ op: 'MaxPool', x: [1, 2, 5, 6], attrs: { kernel_shape: [2, 2], auto_pad: 'SAME_UPPER' } });
    expect(r.y.shape).toEqual([1, 2, 5, 6]);
    r = await one({ op: 'MaxPool', x: [1, 1, 5, 5], attrs: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_LOWER' } });
    expect(r.y.shape).toEqual([1, 1, 3, 3]);
  });

  it('AveragePool: count_include_pad both ways, asymmetric pads', async () => {
    let r = await one({ op: 'AveragePool', x: [2, 3, 7, 7], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } });
    expectClose(r.y, ops.avgPool2d(r.x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }));
    r = await one({ op: 'AveragePool', x: [2, 3, 7, 7], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 } });
    expectClose(r.y, ops.avgPool2d(r.x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: true }));
    for (const cip of [0, 1]) {
      r = await one({ op: 'AveragePool', x: [1, 2, 6, 5], attrs: { kernel_shape: [3, 2], pads: [0, 1, 2, 0], count_include_pad: cip } });
      expect(r.y.shape).toEqual([1, 2, 6, 5]);
    }
  });

  it('GlobalAveragePool', async () => {
    const r = await one({ op: 'GlobalAveragePool', x: [2, 3, 5, 4] });
    expectClose(r.y, ops.globalAvgPool2d(r.x));
  });

  it('Gemm: transB with bias (linear), and transA/alpha/beta with broadcast C', async () => {
    const w = rn([7, 5]), b = rn([7]);
    let r = await one({ op: 'Gemm', x: [3, 5], consts: [['w', w], ['b', b]], attrs: { transB: 1 } });
    expectClose(r.y, ops.linear(r.x, w, b));
    const B = rn([4, 6]), C = rn([1, 6]);
    r = await one({ op: 'Gemm', x: [4, 3], consts: [['B', B], ['C', C]], attrs: { transA: 1, alpha: 0.5, beta: 2 } });
    const xt = Tensor.from(new Float32Array(12).map((_, i) => r.x.data[(i % 4) * 3 + Math.floor(i / 4)]), [3, 4]);
    const mm = ops.matmul(xt, B).toArray();
    for (let i = 0; i < mm.length; i++) mm[i] = 0.5 * mm[i] + 2 * C.data[i % 6];
    expectClose(r.y, { shape: [3, 6], data: mm });
    // No C at all, beta ignored; B as-is.
    r = await one({ op: 'Gemm', x: [2, 4], consts: [['B', B]] });
    expectClose(r.y, ops.matmul(r.x, B));
  });

  it('MatMul: 2-D, batched x 2-D, batched x batched', async () => {
    const B = rn([5, 3]);
    let r = await one({ op: 'MatMul', x: [4, 5], consts: [['B', B]] });
    expectClose(r.y, ops.matmul(r.x, B));
    r = await one({ op: 'MatMul', x: [2, 4, 5], consts: [['B', B]] });
    expectClose(r.y, ops.matmul(r.x.reshape([8, 5]), B).reshape([2, 4, 3]));
    const Bb = rn([2, 5, 3]);
    r = await one({ op: 'MatMul', x: [2, 4, 5], consts: [['B', Bb]] });
    const parts = [0, 1].map((i) => ops.matmul(Tensor.from(r.x.data.subarray(i * 20, i * 20 + 20), [4, 5]),
      Tensor.from(Bb.data.subarray(i * 15, i * 15 + 15), [5, 3])));
    expectClose(r.y, ops.concat(parts, 0).reshape([2, 4, 3]));
  });

  it('Flatten (axis 1, axis 2, axis 0)', async () => {
    let r = await one({ op: 'Flatten', x: [2, 3, 4, 5] });
    expect(r.y.shape).toEqual([2, 60]);
    expectClose(r.y, r.x.reshape([2, 60]));
    r = await one({ op: 'Flatten', x: [2, 3, 4, 5], attrs: { axis: 2 } });
    expect(r.y.shape).toEqual([6, 20]);
    r = await one({ op: 'Flatten', x: [2, 3, 4], attrs: { axis: 0 } });
    expect(r.y.shape).toEqual([1, 24]);
  });

  it('Reshape with 0 (copy) and -1 (infer)', async () => {
    const r = await one({ op: 'Reshape', x: [2, 3, 4, 5], consts: [['s', { dims: [3], int64: [0, -1, 5] }]] });
    expect(r.y.shape).toEqual([2, 12, 5]);
    expectClose(r.y, r.x.reshape([2, 12, 5]));
  });

  it('Add / Mul / Sub / Div with same shape, per-channel and numpy broadcasts', async () => {
    const same = rn([2, 3, 4, 5]);
    let r = await one({ op: 'Add', x: [2, 3, 4, 5], consts: [['b', same]] });
    expectClose(r.y, ops.add(r.x, same));
    const ch = rn([3, 1, 1]); // right-aligned: per channel
    r = await one({ op: 'Mul', x: [2, 3, 4, 5], consts: [['b', ch]] });
    expectClose(r.y, ops.mul(r.x, ch.reshape([1, 3, 1, 1])));
    const row = rn([5]);
    r = await one({ op: 'Add', x: [2, 3, 4, 5], consts: [['b', row]] });
    const want = r.x.toArray();
    for (let i = 0; i < want.length; i++) want[i] += row.data[i % 5];
    expectClose(r.y, { shape: [2, 3, 4, 5], data: want });
    const col = rn([4, 1]);
    r = await one({ op: 'Sub', x: [3, 1, 6], consts: [['b', col]] }); // [3,1,6] - [4,1] -> [3,4,6]
    expect(r.y.shape).toEqual([3, 4, 6]);
    const got = r.y.data;
    expect(got[(2 * 4 + 3) * 6 + 5]).toBeCloseTo(r.x.data[2 * 6 + 5] - col.data[3], 5);
    const sc = Tensor.from([4], []);
    r = await one({ op: 'Div', x: [2, 3], consts: [['b', sc]] });
    expectClose(r.y, { shape: [2, 3], data: r.x.toArray().map((v) => v / 4) });
  });

  it('Softmax: opset 13 single axis, opset 11 flatten semantics', async () => {
    let r = await one({ op: 'Softmax', x: [3, 10] });
    expectClose(r.y, ops.softmax(r.x, 1));
    r = await one({ op: 'Softmax', x: [2, 3, 4], attrs: { axis: 1 } });
    expectClose(r.y, ops.softmax(r.x, 1));
    r = await one({ op: 'Softmax', x: [2, 3, 4], attrs: { axis: 1 }, opset: 11 });
    expectClose(r.y, ops.softmax(r.x.reshape([2, 12]), 1).reshape([2, 3, 4]));
  });

  it('Dropout and Identity pass the input through', async () => {
    let r = await one({ op: 'Dropout', x: [2, 5] });
    expectClose(r.y, r.x);
    r = await one({ op: 'Identity', x: [2, 5] });
    expectClose(r.y, r.x);
  });

  it('Clip: min/max as inputs (opset 13), one bound only, and as attributes (opset 6)', async () => {
    const clip = (x: Tensor, lo: number, hi: number): Float32Array => x.toArray().map((v) => Math.min(Math.max(v, lo), hi));
    let r = await one({ op: 'Clip', x: [3, 4], consts: [['lo', Tensor.from([-0.5], [])], ['hi', Tensor.from([0.25], [])]] });
    expectClose(r.y, { shape: [3, 4], data: clip(r.x, -0.5, 0.25) });
    r = await one({ op: 'Clip', x: [3, 4], consts: [['', Tensor.from([0], [])], ['hi', Tensor.from([0.5], [])]] });
    expectClose(r.y, { shape: [3, 4], data: clip(r.x, -Infinity, 0.5) });
    r = await one({ op: 'Clip', x: [3, 4], opset: 6, attrs: { min: 0, max: 6 } });
    expectClose(r.y, { shape: [3, 4], data: clip(r.x, 0, 6) });
  });

  it('Concat along axis 1 (and a negative axis)', async () => {
    const b = rn([2, 3, 4]);
    let r = await one({ op: 'Concat', x: [2, 2, 4], consts: [['b', b]], attrs: { axis: 1 } });
    expectClose(r.y, ops.concat([r.x, b], 1));
    r = await one({ op: 'Concat', x: [2, 3, 1], consts: [['b', b]], attrs: { axis: -1 } });
    expectClose(r.y, ops.concat([r.x, b], 2));
  });

  it('Pad: constant with a value, reflect and edge (opset 13 inputs), opset 10 attributes, zero pads', async () => {
    // A literal reflect/edge example (numpy.pad semantics, as ONNX specifies).
    const lit = buildOnnxModel({
      nodes: [{ op: 'Pad', inputs: ['x', 'p'], outputs: ['y'], attrs: { mode: 'reflect' } }],
      initializers: { p: { dims: [4], int64: [0, 2, 0, 1] } }, inputs: [{ name: 'x', shape: [2, 3] }], outputs: ['y'],
    });
    const x = Tensor.from(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]);
    let y = (await loadOnnx(lit)).run(x);
    expect(y.shape).toEqual([2, 6]);
    expect([...y.toArray()]).toEqual([3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5]);
    const edge = buildOnnxModel({
      nodes: [{ op: 'Pad', inputs: ['x', 'p'], outputs: ['y'], attrs: { mode: 'edge' } }],
      initializers: { p: { dims: [4], int64: [1, 0, 0, 2] } }, inputs: [{ name: 'x', shape: [2, 3] }], outputs: ['y'],
    });
    y = (await loadOnnx(edge)).run(x);
    expect([...y.toArray()]).toEqual([1, 2, 3, 3, 3, 1, 2, 3, 3, 3, 4, 5, 6, 6, 6]);
    // Against ORT on NCHW, every mode; pads on N and C as well.
    const pads = { dims: [8], int64: [0, 1, 2, 1, 1, 0, 1, 2] };
    let r = await one({ op: 'Pad', x: [2, 3, 4, 5], consts: [['p', pads], ['v', { dims: [], float: [2.5] }]] });
    expect(r.y.shape).toEqual([3, 4, 7, 8]);
    expect(r.y.toArray()[0]).toBe(2.5);
    for (const mode of ['reflect', 'edge']) {
      r = await one({ op: 'Pad', x: [2, 3, 4, 5], attrs: { mode }, consts: [['p', { dims: [8], int64: [0, 0, 2, 1, 0, 0, 3, 2] }]] });
      expect(r.y.shape).toEqual([2, 3, 9, 8]);
    }
    r = await one({ op: 'Pad', x: [1, 2, 3, 3], opset: 10, attrs: { pads: [0, 0, 1, 1, 0, 0, 1, 1], value: { f: -1 } } });
    const framed = new Float32Array(2 * 5 * 5).fill(-1);
    for (let c = 0; c < 2; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) framed[c * 25 + (i + 1) * 5 + j + 1] = r.x.toArray()[c * 9 + i * 3 + j];
    expectClose(r.y, { shape: [1, 2, 5, 5], data: framed }, 0);
    r = await one({ op: 'Pad', x: [1, 2, 3, 3], consts: [['p', { dims: [8], int64: [0, 0, 0, 0, 0, 0, 0, 0] }]] });
    expectClose(r.y, r.x, 0);
    // Bad pads are refused at load, naming the node; a wrong count at run time.
    const bad = (p: number[]): Uint8Array => buildOnnxModel({
      nodes: [{ op: 'Pad', inputs: ['x', 'p'], outputs: ['y'] }],
      initializers: { p: { dims: [p.length], int64: p } }, inputs: [{ name: 'x', shape: [1, 2] }], outputs: ['y'],
    });
    await expect(loadOnnx(bad([0, -1, 0, 0]))).rejects.toThrow(/Pad.*negative pads/);
    await expect(loadOnnx(bad([0, 1, 0]))).rejects.toThrow(/Pad.*begin and an end/);
    const m = await loadOnnx(bad([0, 1, 0, 1, 0, 0]));
    expect(() => m.run(rn([1, 2]))).toThrow(RangeError);
    expect(() => m.run(rn([1, 2]))).toThrow(/6 pads for an input of rank 2/);
  });

  it('ReduceMean: spatial axes with and without keepdims (planned as a global pool), other axes, all axes', async () => {
    for (const keepdims of [0, 1]) {
      const r = await one({ op: 'ReduceMean', x: [2, 3, 5, 4], attrs: { axes: [2, 3], keepdims } });
      const want = ops.globalAvgPool2d(r.x);
      expectClose(r.y, keepdims ? want : want.reshape([2, 3]));
      const m = await loadOnnx(buildOnnxModel({
        nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: { axes: [-1, -2], keepdims } }],
        inputs: [{ name: 'x', shape: [2, 3, 5, 4] }], outputs: ['y'],
      }));
      expect(m.planInfo(r.x).nodes.map((n) => n.algo)).toEqual(['reduceMean as globalavgPool']);
      expectClose(m.run(r.x), keepdims ? want : want.reshape([2, 3]));
    }
    let r = await one({ op: 'ReduceMean', x: [2, 3, 4], attrs: { axes: [1], keepdims: 0 } });
    expectClose(r.y, ops.mean(r.x, 1));
    r = await one({ op: 'ReduceMean', x: [2, 3, 4] });
    expect(r.y.shape).toEqual([1, 1, 1]);
    expect(r.y.toArray()[0]).toBeCloseTo(ops.mean(r.x).toArray()[0], 6);
    await expect(loadOnnx(buildOnnxModel({
      nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: { axes: [1, 1] } }],
      inputs: [{ name: 'x', shape: [2, 3] }], outputs: ['y'],
    }))).rejects.toThrow(/ReduceMean.*repeat an axis/);
    const m = await loadOnnx(buildOnnxModel({
      nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: { axes: [3] } }],
      inputs: [{ name: 'x', shape: [2, 3] }], outputs: ['y'],
    }));
    expect(() => m.run(rn([2, 3]))).toThrow(/axis 3 is out of range for rank 2/);
  });

  it('Transpose (given and default perm) and Slice (axes, steps, negative and clamped bounds)', async () => {
    let r = await one({ op: 'Transpose', x: [2, 3, 4, 5], attrs: { perm: [0, 2, 3, 1] } });
    expect(r.y.shape).toEqual([2, 4, 5, 3]);
    const xd = r.x.toArray(), yd = r.y.toArray();
    expect(yd[((1 * 4 + 2) * 5 + 3) * 3 + 1]).toBe(xd[((1 * 3 + 1) * 4 + 2) * 5 + 3]);
    r = await one({ op: 'Transpose', x: [3, 1, 4] });
    expect(r.y.shape).toEqual([4, 1, 3]);
    const sl = (starts: number[], ends: number[], axes?: number[], steps?: number[]): [string, OnnxInitializer][] => [
      ['st', { dims: [starts.length], int64: starts }], ['en', { dims: [ends.length], int64: ends }],
      ...(axes ? [['ax', { dims: [axes.length], int64: axes }] as [string, OnnxInitializer]] : []),
      ...(steps ? [['sp', { dims: [steps.length], int64: steps }] as [string, OnnxInitializer]] : []),
    ];
    r = await one({ op: 'Slice', x: [2, 6, 5, 4], consts: sl([1, -4], [4, 1000], [1, 2]) });
    expect(r.y.shape).toEqual([2, 3, 4, 4]);
    r = await one({ op: 'Slice', x: [2, 6, 5, 4], consts: sl([0, 1], [2 ** 52, -1], [1, -1], [2, 2]) });
    expect(r.y.shape).toEqual([2, 3, 5, 1]);
    r = await one({ op: 'Slice', x: [2, 6, 5, 4], consts: sl([-1, 4], [-1000, 0], [2, 1], [-2, -3]) });
    expect(r.y.shape).toEqual([2, 2, 3, 4]);
    expect(r.y.toArray()[0]).toBe(r.x.toArray()[4 * 20 + 4 * 4]);
  });

  it('Pow, Sqrt and Erf (erf against its values at 0.5, 1, 2 and 3.5)', async () => {
    const x = Tensor.from([-3.5, -2, -1, -0.5, 0, 1e-6, 0.5, 1, 2, 3.5, 7], [11]);
    const bytes = buildOnnxModel({
      nodes: [{ op: 'Erf', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', shape: [11] }], outputs: ['y'],
    });
    const y = (await loadOnnx(bytes)).run(x).toArray();
    const want = [-0.9999992569, -0.9953222650, -0.8427007929, -0.5204998778, 0, 1.1283791671e-6, 0.5204998778, 0.8427007929, 0.9953222650, 0.9999992569, 1];
    want.forEach((w, i) => expect(Math.abs(y[i] - w)).toBeLessThanOrEqual(Math.abs(w) * 1.2e-7));
    if (ort) expectClose((await loadOnnx(bytes)).run(x), await ortRun(bytes, { x }), 2e-7);
    // Sqrt and fractional powers of positive inputs (negative ones are NaN on both engines).
    const pos = rand([2, 3, 4], { seed: 12 });
    for (const [node, inits] of [
      [{ op: 'Sqrt', inputs: ['x'], outputs: ['y'] }, {}],
      [{ op: 'Pow', inputs: ['x', 'e'], outputs: ['y'] }, { e: { dims: [4], float: [1, 3, 0.5, -1] } }],
    ] as [OnnxNodeSpec, Record<string, OnnxInitializer>][]) {
      const b = buildOnnxModel({ nodes: [node], initializers: inits, inputs: [{ name: 'x', shape: [2, 3, 4] }], outputs: ['y'] });
      const got = (await loadOnnx(b)).run(pos);
      const e = [1, 3, 0.5, -1];
      const want = pos.toArray().map((v, i) => (node.op === 'Sqrt' ? Math.sqrt(v) : v ** e[i % 4]));
      expectClose(got, { shape: [2, 3, 4], data: want }, 1e-7);
      if (ort) expectClose(got, await ortRun(b, { x: pos }), 2e-7);
    }
    const r = await one({ op: 'Pow', x: [2, 3, 4], consts: [['e', { dims: [], float: [2] }]] });
    expectClose(r.y, ops.mul(r.x, r.x), 0);
  });

  it("PyTorch's channel shuffle (Shape -> Gather -> Div -> Unsqueeze -> Concat -> Reshape, Transpose) and chunk (Slice) plan as copies", async () => {
    const c = (name: string, v: number[]): OnnxNodeSpec => ({ op: 'Constant', inputs: [], outputs: [name], attrs: { value: { t: Tensor.from(v, [v.length]) } } });
    const sc = (name: string, v: number): OnnxNodeSpec => ({ op: 'Constant', inputs: [], outputs: [name], attrs: { value_int: v } });
    const nodes: OnnxNodeSpec[] = [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      sc('i0', 0), sc('i1', 1), sc('two', 2), c('ax0', [0]),
      { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'] },
      { op: 'Gather', inputs: ['s', 'i1'], outputs: ['ch'] },
      { op: 'Div', inputs: ['ch', 'two'], outputs: ['half'] },
      { op: 'Cast', inputs: ['half'], outputs: ['halfi'], attrs: { to: 7 } },
      { op: 'Unsqueeze', inputs: ['n', 'ax0'], outputs: ['n1'] },
      { op: 'Unsqueeze', inputs: ['halfi', 'ax0'], outputs: ['h1'] },
      c('g', [2]), c('hw', [-1]),
      { op: 'Concat', inputs: ['n1', 'g', 'h1', 'hw'], outputs: ['shape5'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'shape5'], outputs: ['r'] },
      { op: 'Transpose', inputs: ['r'], outputs: ['t'], attrs: { perm: [0, 2, 1, 3] } },
      { op: 'Shape', inputs: ['x'], outputs: ['s2'] },
      { op: 'Reshape', inputs: ['t', 's2'], outputs: ['sh'] },
      c('zero', [0]), c('one', [1]),
      { op: 'Unsqueeze', inputs: ['halfi', 'ax0'], outputs: ['end'] },
      c('big', [1000]),
      { op: 'Slice', inputs: ['sh', 'end', 'big', 'one'], outputs: ['b'] },
      { op: 'Slice', inputs: ['sh', 'zero', 'end', 'one'], outputs: ['a'] },
      { op: 'Sub', inputs: ['b', 'a'], outputs: ['y'] },
    ];
    // Constants need the INT64 type: rebuild the int ones as int64 initializers.
    const ints: Record<string, OnnxInitializer> = {};
    const kept = nodes.filter((n) => {
      if (n.op !== 'Constant') return true;
      const v = n.attrs!.value_int !== undefined ? [n.attrs!.value_int as number] : [...(n.attrs!.value as { t: Tensor }).t.toArray()];
      ints[n.outputs[0]] = { dims: n.attrs!.value_int !== undefined ? [] : [v.length], int64: v };
      return false;
    });
    const bytes = buildOnnxModel({ nodes: kept, initializers: ints, inputs: [{ name: 'x', shape: ['N', 6, 2, 3] }], outputs: ['y'] });
    const m = await loadOnnx(bytes);
    for (const N of [1, 3]) {
      const x = rn([N, 6, 2, 3]);
      // Reference: shuffle channels [0..5] -> [0, 3, 1, 4, 2, 5], then second half minus first half.
      const xd = x.toArray(), want = new Float32Array(N * 3 * 6);
      const order = [0, 3, 1, 4, 2, 5];
      for (let n = 0; n < N; n++) for (let c2 = 0; c2 < 3; c2++) for (let k = 0; k < 6; k++) {
        want[(n * 3 + c2) * 6 + k] = xd[(n * 6 + order[c2 + 3]) * 6 + k] - xd[(n * 6 + order[c2]) * 6 + k];
      }
      const y = m.run(x);
      expectClose(y, { shape: [N, 3, 2, 3], data: want }, 1e-7);
      const info = m.planInfo(x);
      expect(info.recorded).toBe(true);
      expect(info.nodes.map((n) => n.algo)).toEqual(['view', 'transpose', 'view', 'slice', 'slice', 'sub']);
      expectClose((await loadOnnx(bytes, { fuse: false })).run(x), y, 0);
      if (ort) expectClose(y, await ortRun(bytes, { x }), 1e-7);
    }
    m.dispose();
  });

  it('integer tensors: Gather bounds, Cast truncation, integer Div, and ints refused where floats belong', async () => {
    const bytes = buildOnnxModel({
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'i'], outputs: ['g'] },
        { op: 'Div', inputs: ['g', 'k'], outputs: ['d'] },
        { op: 'Reshape', inputs: ['x', 'd'], outputs: ['y'] },
      ],
      initializers: { i: { dims: [2], int64: [-1, 0] }, k: { dims: [2], int64: [1, 1] } },
      inputs: [{ name: 'x', shape: ['N', 5] }], outputs: ['y'],
    });
    const m = await loadOnnx(bytes);
    expect(m.run(rn([3, 5])).shape).toEqual([5, 3]);
    const div = buildOnnxModel({
      nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'] }, { op: 'Div', inputs: ['s', 'k'], outputs: ['d'] },
        { op: 'Reshape', inputs: ['x', 'd'], outputs: ['y'] }],
      initializers: { k: { dims: [1], int64: [2] } }, inputs: [{ name: 'x', shape: [7] }], outputs: ['y'],
    });
    // 7 / 2 truncates to 3: the Reshape of 7 elements to [3] is refused, naming the node.
    await expect(loadOnnx(div).then((d) => d.run(rn([7])))).rejects.toThrow(/Reshape.*cannot reshape \[7\].*\[3\]/);
    const oob = buildOnnxModel({
      nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'] }, { op: 'Gather', inputs: ['s', 'i'], outputs: ['g'] },
        { op: 'Reshape', inputs: ['x', 'g'], outputs: ['y'] }],
      initializers: { i: { dims: [1], int64: [2] } }, inputs: [{ name: 'x', shape: [2, 3] }], outputs: ['y'],
    });
    await expect(loadOnnx(oob).then((d) => d.run(rn([2, 3])))).rejects.toThrow(/Gather.*index 2 is out of range/);
    const bad = buildOnnxModel({
      nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'] }, { op: 'Relu', inputs: ['s'], outputs: ['y'] }],
      initializers: {}, inputs: [{ name: 'x', shape: [2, 3] }], outputs: ['y'],
    });
    await expect(loadOnnx(bad)).rejects.toThrow(/Relu.*integer tensor; a float tensor is expected/);
  });

  it('Constant nodes feed a Reshape shape and an Add operand', async () => {
    const bias = rn([4]);
    const bytes = buildOnnxModel({
      nodes: [
        { op: 'Constant', inputs: [], outputs: ['shape'], attrs: { value_ints: [-1, 4] } },
        { op: 'Constant', inputs: [], outputs: ['bias'], attrs: { value: bias } },
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
        { op: 'Add', inputs: ['r', 'bias'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', shape: [2, 2, 2] }], outputs: ['y'],
    });
    const x = rn([2, 2, 2]);
    const y = (await loadOnnx(bytes)).run(x);
    expect(y.shape).toEqual([2, 4]);
    if (ort) expectClose(y, await ortRun(bytes, { x }));
  });
});

describe('model behaviour', () => {
  const tiny = (): Uint8Array => buildOnnxModel({
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['a'] },
      { op: 'Mul', inputs: ['a', 'k'], outputs: ['b'] },
      { op: 'Sigmoid', inputs: ['b'], outputs: ['y'] },
    ],
    initializers: { k: Tensor.from([2], []) },
    inputs: [{ name: 'x', shape: ['N', 3] }], outputs: ['y'],
  });

  it('loads from a path, frees intermediates, runAsync resolves to the same result, dispose', async () => {
    const file = path.join(dir, 'tiny.onnx');
    fs.writeFileSync(file, tiny());
    const m = await loadOnnx(file);
    expect(m.inputs).toEqual([{ name: 'x', shape: ['N', 3] }]);
    const x = rn([4, 3]);
    // The first run of a shape builds its plan (held by the model, counted by memory()).
    const bytes0 = memory().bytes;
    m.run(x).dispose();
    expect(memory().bytes).toBeGreaterThan(bytes0);
    const before = liveStats().tensors;
    const y = m.run(x);
    expect(liveStats().tensors).toBe(before + 1);
    const y2 = await m.runAsync(x);
    expectClose(y2, y, 0);
    expectClose(y, ops.sigmoid(ops.mul(ops.relu(x), Tensor.from(new Float32Array(12).fill(2), [4, 3]))));
    expect(() => m.run(rn([4, 5]))).toThrow(/expects \[\?,3\]|expects \[N,3\]|expects/);
    m.dispose();
    expect(() => m.run(x)).toThrow(/disposed/);
    await expect(m.runAsync(x)).rejects.toThrow(/disposed/);
  });

  it('runs inside tidy and noGrad without leaking, and reports node errors by name', async () => {
    const m = await loadOnnx(tiny());
    m.run(rn([2, 3])).dispose(); // builds the plan for [2, 3]
    const before = liveStats().tensors;
    tidy(() => noGrad(() => { m.run(rn([2, 3])); }));
    expect(liveStats().tensors).toBe(before);
    const bad = await loadOnnx(buildOnnxModel({
      nodes: [{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'], name: 'adder' }],
      initializers: { b: rn([4]) }, inputs: [{ name: 'x' }], outputs: ['y'],
    }));
    expect(() => bad.run(rn([2, 3]))).toThrow(/node 'adder' \(Add\).*broadcast/);
  });
});

// ---- whole networks ---------------------------------------------------------------------------------

function randomStateDict(shapes: Record<string, number[]>): Record<string, Tensor> {
  const sd: Record<string, Tensor> = {};
  for (const [k, s] of Object.entries(shapes)) {
    if (k.endsWith('running_var')) sd[k] = Tensor.from(rand(s, { seed: seed++ }).toArray().map((v) => 0.5 + v), s);
    else {
      const fan = s.slice(1).reduce((a, b) => a * b, 1) || 1;
      const t = rn(s).toArray().map((v) => (k.endsWith('weight') && s.length > 1 ? v / Math.sqrt(fan) : 0.1 * v));
      sd[k] = Tensor.from(t, s);
    }
  }
  return sd;
}

function resnet18Shapes(classes: number): Record<string, number[]> {
  const s: Record<string, number[]> = {};
  const bn = (p: string, c: number): void => { for (const k of ['weight', 'bias', 'running_mean', 'running_var']) s[`${p}.${k}`] = [c]; };
  s['conv1.weight'] = [64, 3, 7, 7];
  bn('bn1', 64);
  let inC = 64;
  [64, 128, 256, 512].forEach((c, li) => {
    for (let b = 0; b < 2; b++) {
      const p = `layer${li + 1}.${b}`;
      s[`${p}.conv1.weight`] = [c, b === 0 ? inC : c, 3, 3]; bn(`${p}.bn1`, c);
      s[`${p}.conv2.weight`] = [c, c, 3, 3]; bn(`${p}.bn2`, c);
      if (b === 0 && li > 0) { s[`${p}.downsample.0.weight`] = [c, inC, 1, 1]; bn(`${p}.downsample.1`, c); }
    }
    inC = c;
  });
  s['fc.weight'] = [classes, 512];
  s['fc.bias'] = [classes];
  return s;
}

describe('state-dict builders', () => {
  it('lenet5: loadOnnx matches ops computed directly (and ORT)', async () => {
    const sd = randomStateDict({
      'features.0.weight': [6, 1, 5, 5], 'features.0.bias': [6], 'features.3.weight': [16, 6, 5, 5], 'features.3.bias': [16],
      'classifier.0.weight': [120, 400], 'classifier.0.bias': [120], 'classifier.2.weight': [84, 120], 'classifier.2.bias': [84],
      'classifier.4.weight': [10, 84], 'classifier.4.bias': [10],
    });
    const bytes = onnxFromStateDict.lenet5(sd);
    const x = rn([2, 1, 28, 28]);
    const y = (await loadOnnx(bytes)).run(x);
    const want = tidy(() => {
      let h = ops.maxPool2d(ops.relu(ops.conv2d(x, sd['features.0.weight'], sd['features.0.bias'], { padding: 2 })), { kernelSize: 2 });
      h = ops.maxPool2d(ops.relu(ops.conv2d(h, sd['features.3.weight'], sd['features.3.bias'])), { kernelSize: 2 });
      h = ops.relu(ops.linear(ops.flatten(h), sd['classifier.0.weight'], sd['classifier.0.bias']));
      h = ops.relu(ops.linear(h, sd['classifier.2.weight'], sd['classifier.2.bias']));
      return ops.linear(h, sd['classifier.4.weight'], sd['classifier.4.bias']);
    });
    expectClose(y, want, 1e-5);
    if (ort) expectClose(y, await ortRun(bytes, { input: x }), 1e-4);
  });

  it('resnet18 at 1x3x64x64: ORT accepts the file and agrees with loadOnnx', async () => {
    const sd = randomStateDict(resnet18Shapes(10));
    const bytes = onnxFromStateDict.resnet18(sd);
    const x = rn([1, 3, 64, 64]);
    const m = await loadOnnx(bytes);
    const y = m.run(x);
    expect(y.shape).toEqual([1, 10]);
    const plain = await loadOnnx(bytes, { fuse: false });
    const yp = plain.run(x);
    expectClose(y, yp, 1e-4);
    if (ort) {
      const r = await ortRun(bytes, { input: x });
      expectClose(y, r, 1e-4);
      expectClose(yp, r, 1e-4);
    }
    m.dispose();
    plain.dispose();
  });

  it('Conv+BatchNormalization+Relu fusion keeps other readers and graph outputs exact', async () => {
    const w = rn([4, 3, 3, 3]), b = rn([4]);
    const bn = { s: rn([4]), t: rn([4]), m: rn([4]), v: rand([4], { seed: 3 }) };
    const bytes = buildOnnxModel({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'BatchNormalization', inputs: ['c', 's', 't', 'm', 'v'], outputs: ['n'] },
        { op: 'Relu', inputs: ['n'], outputs: ['r'] },
        { op: 'Relu', inputs: ['c'], outputs: ['r2'] }, // a second reader of c: no folding
        { op: 'Add', inputs: ['r', 'r2'], outputs: ['y'] },
      ],
      initializers: { w, b, s: bn.s, t: bn.t, m: bn.m, v: bn.v },
      inputs: [{ name: 'x', shape: [1, 3, 6, 6] }], outputs: ['y'],
    });
    const x = rn([1, 3, 6, 6]);
    const c = ops.conv2d(x, w, b, { padding: 1 });
    const want = ops.add(ops.relu(ops.batchNorm2d(c, { runningMean: bn.m, runningVar: bn.v, weight: bn.s, bias: bn.t })), ops.relu(c));
    expectClose((await loadOnnx(bytes)).run(x), want, 1e-5);
    // Without the second reader everything folds into one fused convolution.
    const folded = buildOnnxModel({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'BatchNormalization', inputs: ['c', 's', 't', 'm', 'v'], outputs: ['n'] },
        { op: 'Relu', inputs: ['n'], outputs: ['y'] },
      ],
      initializers: { w, b, s: bn.s, t: bn.t, m: bn.m, v: bn.v },
      inputs: [{ name: 'x', shape: [1, 3, 6, 6] }], outputs: ['y'],
    });
    const fm = await loadOnnx(folded);
    const plan = fm.planInfo(x).nodes;
    expect(plan.length).toBe(1);
    expect(plan[0].algo).toMatch(/\+relu/);
    expectClose(fm.run(x), ops.relu(ops.batchNorm2d(c, { runningMean: bn.m, runningVar: bn.v, weight: bn.s, bias: bn.t })), 1e-5);
  });

  it('batch norm folded in place only into weights no other node shares', async () => {
    // w is read by two Conv+BN pairs through two Identities (each name has one reader, but
    // scaling w in place for one would corrupt the others) and by one pair directly; u by one
    // pair (scaled in place). Every output must match the exact ops, at two batch sizes (a new
    // plan for the second: the folded weights are what it packs).
    const w = rn([4, 3, 3, 3]), u = rn([4, 3, 3, 3]);
    const bns = [0, 1, 2, 3].map((i) => ({ s: rn([4]), t: rn([4]), m: rn([4]), v: rand([4], { seed: 40 + i }) }));
    const inits: Record<string, Tensor> = { w, u };
    const nodes: OnnxNodeSpec[] = [{ op: 'Identity', inputs: ['w'], outputs: ['wi'] }, { op: 'Identity', inputs: ['w'], outputs: ['wj'] }];
    const pairs: [string, string][] = [['wi', 'y0'], ['wj', 'y1'], ['w', 'y2'], ['u', 'y3']];
    pairs.forEach(([wt, y], i) => {
      const k = bns[i];
      Object.assign(inits, { [`s${i}`]: k.s, [`t${i}`]: k.t, [`m${i}`]: k.m, [`v${i}`]: k.v });
      nodes.push({ op: 'Conv', inputs: ['x', wt], outputs: [`c${i}`], attrs: { pads: [1, 1, 1, 1] } });
      nodes.push({ op: 'BatchNormalization', inputs: [`c${i}`, `s${i}`, `t${i}`, `m${i}`, `v${i}`], outputs: [y] });
    });
    const bytes = buildOnnxModel({
      nodes, initializers: inits, inputs: [{ name: 'x', shape: ['N', 3, 6, 6] }], outputs: pairs.map((p) => p[1]),
    });
    const m = await loadOnnx(bytes);
    for (const n of [1, 3]) {
      const x = rn([n, 3, 6, 6]);
      const got = m.runAll({ x });
      pairs.forEach(([wt, y], i) => {
        const k = bns[i];
        const c = ops.conv2d(x, wt === 'u' ? u : w, null, { padding: 1 });
        expectClose(got[y], ops.batchNorm2d(c, { runningMean: k.m, runningVar: k.v, weight: k.s, bias: k.t }), 1e-5);
      });
    }
    // Every pair still one convolution with its batch norm folded in.
    expect(m.planInfo(rn([1, 3, 6, 6])).nodes.length).toBe(4);
    m.dispose();
  });

  it('conv builder and alexnet graph structure', async () => {
    const w = rn([4, 2, 3, 3]);
    const bytes = onnxFromStateDict.conv(w, null, { stride: 2, autoPad: 'SAME_UPPER' });
    const x = rn([1, 2, 7, 7]);
    const y = (await loadOnnx(bytes)).run(x);
    expect(y.shape).toEqual([1, 4, 4, 4]);
    expectClose(y, ops.conv2d(x, w, null, { stride: 2, padding: [1, 1, 1, 1] }));
    // AlexNet with tiny stand-in classifier widths would not match 9216 inputs; check the graph loads
    // and validates with the real feature shapes but a narrow classifier.
    const sd = randomStateDict({
      'features.0.weight': [64, 3, 11, 11], 'features.0.bias': [64], 'features.3.weight': [192, 64, 5, 5], 'features.3.bias': [192],
      'features.6.weight': [384, 192, 3, 3], 'features.6.bias': [384], 'features.8.weight': [256, 384, 3, 3], 'features.8.bias': [256],
      'features.10.weight': [256, 256, 3, 3], 'features.10.bias': [256], 'classifier.1.weight': [8, 9216], 'classifier.1.bias': [8],
      'classifier.4.weight': [8, 8], 'classifier.4.bias': [8], 'classifier.6.weight': [5, 8], 'classifier.6.bias': [5],
    });
    const ab = onnxFromStateDict.alexnet(sd, { batch: 1 });
    const am = await loadOnnx(ab);
    expect(am.inputs[0].shape).toEqual([1, 3, 224, 224]);
    const ax = rn([1, 3, 224, 224]);
    const ay = am.run(ax);
    expect(ay.shape).toEqual([1, 5]);
    if (ort) expectClose(ay, await ortRun(ab, { input: ax }), 1e-4);
    am.dispose();
  });
});

// ---- hostile files ------------------------------------------------------------------------------------

/** Hand-assembled model pieces for the malformed cases. */
function modelWith(graph: Writer | null, opset = 13): Uint8Array {
  const m = new Writer();
  m.varint(1, 8);
  if (graph) m.message(7, graph);
  const o = new Writer();
  o.string(1, '');
  o.varint(2, opset);
  m.message(8, o);
  return m.finish();
}

function graphOf(nodes: OnnxNodeSpec[], inits: Record<string, OnnxInitializer> = {}, extra?: (g: Writer) => void): Writer {
  // The writer's graph (field 7 of its model) plus whatever malformed fields `extra` appends.
  const bytes = buildOnnxModel({ nodes, initializers: inits, inputs: [{ name: 'x', shape: [1, 2] }], outputs: ['y'] });
  const w = new RawWriter(findField(bytes, 7));
  if (extra) extra(w);
  return w;
}

/** A Writer whose content starts with existing message bytes. */
class RawWriter extends Writer {
  constructor(private readonly prefix: Uint8Array) { super(); }
  override finish(): Uint8Array {
    const rest = super.finish();
    const out = new Uint8Array(this.prefix.length + rest.length);
    out.set(this.prefix);
    out.set(rest, this.prefix.length);
    return out;
  }
}

function findField(buf: Uint8Array, field: number): Uint8Array {
  let p = 0;
  const varint = (): number => { let v = 0, s = 1, b: number; do { b = buf[p++]; v += (b & 0x7f) * s; s *= 128; } while (b & 0x80); return v; };
  while (p < buf.length) {
    const t = varint();
    const f = Math.floor(t / 8), w = t & 7;
    if (w === 0) varint();
    else if (w === 5) p += 4;
    else if (w === 1) p += 8;
    else { const n = varint(); if (f === field) return buf.subarray(p, p + n); p += n; }
  }
  throw new Error('field not found');
}

function rawTensor(name: string, dims: number[], data: Uint8Array, dataType = 1): Writer {
  const t = new Writer();
  t.packedVarint(1, dims);
  t.varint(2, dataType);
  t.string(8, name);
  t.bytes(9, data);
  return t;
}

const relu = (): OnnxNodeSpec[] => [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }];

describe('hostile and malformed files', () => {
  const good = buildOnnxModel({ nodes: relu(), inputs: [{ name: 'x', shape: [1, 2] }], outputs: ['y'] });

  const cases: [string, () => Uint8Array | ArrayBuffer, RegExp][] = [
    ['empty file', () => new Uint8Array(0), /empty/],
    ['truncated in the middle', () => good.subarray(0, good.length - 7), /truncated|past the end/],
    ['truncated varint', () => Uint8Array.of(0x08, 0x80, 0x80), /varint runs past the end/],
    ['varint longer than 10 bytes', () => Uint8Array.of(0x08, ...new Array(11).fill(0xff), 0x01), /longer than 10 bytes|more than 64 bits/],
    ['length past the end', () => Uint8Array.of(0x3a, 0xff, 0xff, 0xff, 0x0f, 0x00), /length \d+ .* runs past the end/],
    ['wrong wire type for graph', () => Uint8Array.of(0x38, 0x05), /wrong wire type 0 for model.graph/],
    ['group wire type', () => Uint8Array.of(0x1b), /unsupported wire type 3/],
    ['field number 0', () => Uint8Array.of(0x00, 0x00), /invalid field number 0/],
    ['missing graph', () => modelWith(null), /no graph/],
    ['missing opset', () => { const m = new Writer(); m.message(7, graphOf(relu())); return m.finish(); }, /no opset_import/],
    ['unknown op', () => buildOnnxModel({ nodes: [{ op: 'FancyAttention', inputs: ['x'], outputs: ['y'] }, { op: 'NonMaxSuppression', inputs: ['x'], outputs: ['z'] }], inputs: ['x'], outputs: ['y'] }),
      /unsupported op type\(s\): FancyAttention, NonMaxSuppression/],
    ['custom domain op', () => { const g = graphOf([], {}, (w) => { const n = new Writer(); n.string(1, 'x'); n.string(2, 'y'); n.string(4, 'Relu'); n.string(7, 'com.evil'); w.message(1, n); }); return modelWith(g); },
      /unsupported op type\(s\): com\.evil\.Relu/],
    ['cycle', () => buildOnnxModel({ nodes: [
      { op: 'Add', inputs: ['x', 'b'], outputs: ['a'], name: 'n1' }, { op: 'Relu', inputs: ['a'], outputs: ['b'], name: 'n2' },
      { op: 'Relu', inputs: ['a'], outputs: ['y'] }], inputs: ['x'], outputs: ['y'] }), /cycle through node 'n1' \(Add\), node 'n2' \(Relu\)/],
    ['dangling node input', () => buildOnnxModel({ nodes: [{ op: 'Add', inputs: ['x', 'ghost'], outputs: ['y'] }], inputs: ['x'], outputs: ['y'] }),
      /reads 'ghost', which no node/],
    ['dangling graph output', () => buildOnnxModel({ nodes: relu(), inputs: ['x'], outputs: ['nowhere'] }), /graph output 'nowhere' is not produced/],
    ['output defined twice', () => buildOnnxModel({ nodes: [...relu(), { op: 'Tanh', inputs: ['x'], outputs: ['y'] }], inputs: ['x'], outputs: ['y'] }),
      /'y' is defined twice/],
    ['initializer size mismatch (raw_data)', () => modelWith(graphOf(relu(), {}, (w) => w.message(5, rawTensor('w', [3, 4], new Uint8Array(40))))),
      /dims \[3,4\] \(12 elements\) but raw_data holds 10/],
    ['initializer size mismatch (float_data)', () => buildOnnxModel({ nodes: relu(), initializers: { w: { dims: [2, 2], float: [1, 2, 3] } }, inputs: ['x'], outputs: ['y'] }),
      /float_data holds 3/],
    ['huge dims', () => modelWith(graphOf(relu(), {}, (w) => w.message(5, rawTensor('w', [1 << 20, 1 << 20, 1 << 20], new Uint8Array(4))))),
      /too large/],
    ['negative dim', () => modelWith(graphOf(relu(), {}, (w) => w.message(5, rawTensor('w', [-3], new Uint8Array(0))))), /invalid dimension -3/],
    ['unsupported data type', () => modelWith(graphOf(relu(), {}, (w) => w.message(5, rawTensor('w', [2], new Uint8Array(16), 11)))),
      /data type DOUBLE/],
    ['external data', () => modelWith(graphOf(relu(), {}, (w) => { const t = rawTensor('w', [1], new Uint8Array(4)); t.varint(14, 1); w.message(5, t); })),
      /external data/],
    ['unsupported opset', () => buildOnnxModel({ nodes: relu(), inputs: ['x'], outputs: ['y'], opset: 1 }), /opset 1 is not supported/],
    ['Reshape shape a float tensor', () => buildOnnxModel({ nodes: [{ op: 'Reshape', inputs: ['x', 'x'], outputs: ['y'] }], inputs: ['x'], outputs: ['y'] }),
      /Reshape.*shape input 'x' must be an INT64 tensor/],
    ['integer tensor fed to a float input', () => buildOnnxModel({ nodes: [{ op: 'Add', inputs: ['x', 's'], outputs: ['y'] }], initializers: { s: { dims: [1], int64: [1] } }, inputs: ['x'], outputs: ['y'] }),
      /integer tensor; a float tensor is expected/],
    ['unsupported attribute', () => buildOnnxModel({ nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'], attrs: { bogus: 1 } }], inputs: ['x'], outputs: ['y'] }),
      /attribute 'bogus'/],
    ['attribute of the wrong type', () => buildOnnxModel({ nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { strides: 'two' } }], initializers: { w: rn([1, 1, 1, 1]) }, inputs: ['x'], outputs: ['y'] }),
      /'strides' has type STRING, expected INTS/],
    ['conv weight rank', () => buildOnnxModel({ nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'] }], initializers: { w: rn([2, 3]) }, inputs: ['x'], outputs: ['y'] }),
      /weight must be 4-D/],
    ['wrong arity', () => buildOnnxModel({ nodes: [{ op: 'Add', inputs: ['x'], outputs: ['y'] }], inputs: ['x'], outputs: ['y'] }), /has 1 inputs, expected 2/],
    ['invalid UTF-8 name', () => modelWith(graphOf(relu(), {}, (w) => w.bytes(2, Uint8Array.of(0xff, 0xfe)))), /invalid UTF-8/],
    ['random bytes', () => { const b = new Uint8Array(256); let s = 12345; for (let i = 0; i < b.length; i++) { s = (s * 1103515245 + 12345) >>> 0; b[i] = s >>> 24; } return b; },
      /loadOnnx: /],
  ];

  for (const [name, make, reason] of cases) {
    it(name, async () => {
      const bytes = make();
      await expect(loadOnnx(bytes)).rejects.toThrow(/^loadOnnx: /);
      await expect(loadOnnx(bytes)).rejects.toThrow(reason);
    });
  }

  it('every truncation of a valid file is rejected with a loadOnnx Error', () => {
    const m = onnxFromStateDict.conv(rn([2, 1, 3, 3]), rn([2]), { padding: 1 });
    for (let n = 0; n < m.length; n++) {
      let err: unknown = null;
      try { parseOnnx(m.subarray(0, n)).dispose(); } catch (e) { err = e; }
      // A prefix ending exactly on a field boundary can be a valid (smaller) model; otherwise it must fail cleanly.
      if (err) expect(String((err as Error).message)).toMatch(/^loadOnnx: /);
    }
  });

  it('rejects a missing file and non-bytes arguments', async () => {
    await expect(loadOnnx(path.join(dir, 'nope.onnx'))).rejects.toThrow(/loadOnnx: cannot read/);
    await expect(loadOnnx(42 as unknown as string)).rejects.toThrow(TypeError);
  });
});

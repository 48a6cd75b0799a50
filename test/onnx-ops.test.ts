/**
 * The ONNX ops added for conformance, where ONNX's own node tests (test/onnx-conformance.test.ts)
 * would not catch a bug: 3-D convolution and pooling with every geometry option (those tests have
 * only a default 3-D case), transposed convolution with groups, strides, pads and dilation (as the
 * adjoint of the convolution), 1-D ops on the 2-D kernels, batch norm and global pooling on 5-D
 * inputs, opset < 13 softmax semantics, Upsample, float inputs bound per run, and the refusals.
 * Each model runs planned (loadOnnx's default) and with exact kernels ({ fuse: false }).
 */
import { describe, it, expect } from 'vitest';
import { loadOnnx, buildOnnxModel } from '../lib/io/onnx/index';
import type { OnnxNodeSpec, OnnxInitializer } from '../lib/io/onnx/index';
import { Tensor, randn } from '../lib/tensor';
import * as ops from '../lib/ops/index';
import * as nd from '../lib/ops/nd';

let seed = 7000;
const rn = (shape: number[]): Tensor => randn(shape, { seed: seed++ });
const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);

interface Spec { nodes: OnnxNodeSpec[]; initializers?: Record<string, OnnxInitializer>; inputs: string[]; outputs: string[]; opset?: number }

/** Runs the model both ways; returns the outputs of each (planned first). */
async function runBoth(spec: Spec, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>[]> {
  const bytes = buildOnnxModel(spec);
  const out: Record<string, Tensor>[] = [];
  for (const fuse of [true, false]) {
    const m = await loadOnnx(bytes, { fuse });
    out.push(m.runAll(feeds));
    m.dispose();
  }
  return out;
}

/** |got - want| <= 1e-5 + 1e-4 |want| everywhere, shapes equal. */
function expectClose(got: Tensor, want: { shape: readonly number[]; data: ArrayLike<number> }): void {
  expect(got.shape).toEqual([...want.shape]);
  const g = got.toArray();
  let worst = 0;
  for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - want.data[i]) / (1e-5 + 1e-4 * Math.abs(want.data[i])));
  expect(worst).toBeLessThanOrEqual(1);
}

/** x[:, :, d] of a 5-D tensor as a 4-D one. */
function depthSlice(x: Tensor, d: number): Tensor {
  const [N, C, D, H, W] = x.shape;
  const out = new Float32Array(N * C * H * W);
  for (let nc = 0; nc < N * C; nc++) out.set(x.data.subarray((nc * D + d) * H * W, (nc * D + d + 1) * H * W), nc * H * W);
  return Tensor.from(out, [N, C, H, W]);
}

/** w[:, :, kd] of a 5-D weight as a 4-D one. */
const kernelSlice = depthSlice;

describe('N-D convolution', () => {
  it('3-D Conv (strides, asymmetric pads, dilations, groups, bias) is the depth-sum of 2-D convolutions', async () => {
    const x = rn([2, 4, 6, 7, 5]), w = rn([6, 2, 2, 3, 2]), b = rn([6]);
    const s = [2, 1, 2], p = [1, 0, 1, 0, 2, 1], d = [2, 1, 1];
    const [N, , D] = x.shape, kD = w.shape[2];
    const OD = Math.floor((D + p[0] + p[3] - d[0] * (kD - 1) - 1) / s[0]) + 1;
    const planes: Tensor[] = [];
    for (let od = 0; od < OD; od++) {
      let acc: Tensor | null = null;
      for (let kd = 0; kd < kD; kd++) {
        const id = od * s[0] - p[0] + kd * d[0];
        if (id < 0 || id >= D) continue;
        const y = ops.conv2d(depthSlice(x, id), kernelSlice(w, kd), null, { stride: [s[1], s[2]], padding: [p[1], p[2], p[4], p[5]], dilation: [d[1], d[2]], groups: 2 });
        acc = acc ? ops.add(acc, y) : y;
      }
      planes.push(ops.add(acc!, b.reshape([1, 6, 1, 1])));
    }
    const [, M, OH, OW] = planes[0].shape;
    const want = new Float32Array(N * M * OD * OH * OW);
    planes.forEach((pl, od) => {
      for (let nm = 0; nm < N * M; nm++) want.set(pl.data.subarray(nm * OH * OW, (nm + 1) * OH * OW), (nm * OD + od) * OH * OW);
    });
    const outs = await runBoth({
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { strides: s, pads: p, dilations: d, group: 2 } }],
      initializers: { w, b }, inputs: ['x'], outputs: ['y'],
    }, { x });
    for (const o of outs) expectClose(o.y, { shape: [N, M, OD, OH, OW], data: want });
    // The N-D reference kernel (direct loops) agrees.
    expectClose(nd.convNd('ref', x, w, b, { strides: s, dilations: d, group: 2, pads: p }), { shape: [N, M, OD, OH, OW], data: want });
  });

  it('3-D Conv where output planes read only padding (depth pads beyond the kernel) is the bias there', async () => {
    const x = rn([1, 2, 3, 4, 4]), w = rn([3, 2, 1, 3, 3]), b = rn([3]);
    const attrs = { pads: [2, 1, 1, 2, 1, 1] };
    const want = nd.convNd('ref', x, w, b, { strides: [1, 1, 1], dilations: [1, 1, 1], group: 1, pads: attrs.pads });
    expect(want.shape).toEqual([1, 3, 7, 4, 4]);
    const outs = await runBoth({ nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs }], initializers: { w, b }, inputs: ['x'], outputs: ['y'] }, { x });
    for (const o of outs) expectClose(o.y, want);
  });

  it('1-D Conv with SAME_LOWER (stride 2) and asymmetric pads runs as the 2-D convolution of a height-1 image', async () => {
    const x = rn([2, 3, 11]), w = rn([4, 3, 4]);
    const x4 = x.reshape([2, 3, 1, 11]), w4 = w.reshape([4, 3, 1, 4]);
    // SAME_LOWER, stride 2, k 4 on 11: output 6, total pad (6-1)*2 + 4 - 11 = 3, 2 at the start.
    const same = ops.conv2d(x4, w4, null, { stride: [1, 2], padding: [0, 2, 0, 1] });
    const outs = await runBoth({
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { strides: [2], auto_pad: 'SAME_LOWER' } }],
      initializers: { w }, inputs: ['x'], outputs: ['y'],
    }, { x });
    for (const o of outs) expectClose(o.y, { shape: [2, 4, 6], data: same.data });
    const pads = ops.conv2d(x4, w4, null, { padding: [0, 3, 0, 1], dilation: [1, 2] });
    const outs2 = await runBoth({
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { pads: [3, 1], dilations: [2] } }],
      initializers: { w }, inputs: ['x'], outputs: ['y'],
    }, { x });
    for (const o of outs2) expectClose(o.y, { shape: [2, 4, pads.shape[3]], data: pads.data });
  });

  // <conv(x; W), dy> = <x, convT(dy; W)>: ConvTranspose is the adjoint of Conv with the same
  // weight, pads, strides, dilations and groups, output_padding making up the size Conv dropped.
  const adjoint: [string, number[], number[], number[], number[], number][] = [
    ['2-D, stride 2, pads, groups 2', [2, 4, 9, 8], [6, 2, 3, 2], [2, 3], [1, 0, 2, 1], 2],
    ['2-D, dilation 2', [1, 3, 7, 7], [4, 3, 3, 3], [1, 1], [1, 1, 1, 1], 1],
    ['1-D, stride 3, groups 3', [2, 3, 13], [6, 1, 4], [3], [2, 1], 3],
    ['3-D, stride 2', [1, 2, 5, 6, 4], [3, 2, 2, 3, 2], [2, 1, 2], [0, 1, 1, 1, 0, 0], 1],
  ];
  for (const [name, xs, ws, s, p, g] of adjoint) {
    it(`ConvTranspose is the adjoint of Conv (${name})`, async () => {
      const n = xs.length - 2;
      const d = name.includes('dilation') ? new Array<number>(n).fill(2) : new Array<number>(n).fill(1);
      const x = rn(xs), w = rn(ws);
      const convOut = xs.slice(2).map((S, i) => Math.floor((S + p[i] + p[i + n] - d[i] * (ws[i + 2] - 1) - 1) / s[i]) + 1);
      const outPad = xs.slice(2).map((S, i) => (S + p[i] + p[i + n] - d[i] * (ws[i + 2] - 1) - 1) % s[i]);
      const dy = rn([xs[0], ws[0], ...convOut]);
      const [conv] = await runBoth({
        nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { strides: s, pads: p, dilations: d, group: g } }],
        initializers: { w }, inputs: ['x'], outputs: ['y'],
      }, { x });
      expect(conv.y.shape).toEqual(dy.shape);
      const outs = await runBoth({
        nodes: [{ op: 'ConvTranspose', inputs: ['dy', 'w'], outputs: ['dx'], attrs: { strides: s, pads: p, dilations: d, group: g, output_padding: outPad } }],
        initializers: { w }, inputs: ['dy'], outputs: ['dx'],
      }, { dy });
      let lhs = 0;
      for (let i = 0; i < dy.size; i++) lhs += conv.y.data[i] * dy.data[i];
      for (const o of outs) {
        expect(o.dx.shape).toEqual(xs);
        let rhs = 0;
        for (let i = 0; i < x.size; i++) rhs += x.data[i] * o.dx.data[i];
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * (1 + Math.abs(lhs)));
      }
    });
  }

  it('2-D ConvTranspose on the native convolution matches the direct scatter (pads beyond the kernel, output_padding, output_shape)', async () => {
    const x = rn([2, 4, 5, 6]), w = rn([4, 3, 2, 3]), b = rn([6]);
    const specs: Record<string, number | number[]>[] = [
      { strides: [3, 2], pads: [3, 0, 1, 4], output_padding: [2, 1], group: 2 },
      { strides: [2, 2], dilations: [2, 3], pads: [0, 5, 2, 0], group: 2 },
      { strides: [2, 3], output_shape: [9, 20], group: 1 },
    ];
    for (const attrs of specs) {
      const group = attrs.group as number;
      const wt = group === 1 ? rn([4, 6, 2, 3]) : w;
      const bias = group === 1 ? rn([6]) : b;
      const n = (name: string, def: number, len: number): number[] => (attrs[name] as number[] | undefined) ?? new Array<number>(len).fill(def);
      const want = nd.convTransposeNd('ref', x, wt, bias, {
        strides: n('strides', 1, 2), dilations: n('dilations', 1, 2), pads: n('pads', 0, 4), outputPadding: n('output_padding', 0, 2),
        group, autoPad: 'NOTSET', outputShape: (attrs.output_shape as number[] | undefined) ?? null,
      });
      const outs = await runBoth({ nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs }],
        initializers: { w: wt, b: bias }, inputs: ['x'], outputs: ['y'] }, { x });
      for (const o of outs) expectClose(o.y, want);
    }
  });

  it('ConvTranspose with a kernel far larger than its input (the direct scatter) matches a hand reference', async () => {
    // 3 inputs, a 20000-wide kernel: the zero-interleaved convolution would do ~6700x the work.
    const C = 2, M = 3, S = 3, K = 20000, stride = 2, pb = 5, pe = 7;
    const x = rn([1, C, S]), w = rn([C, M, K]), b = rn([M]);
    const O = stride * (S - 1) + K - pb - pe;
    const want = new Float64Array(M * O);
    for (let m = 0; m < M; m++) for (let o = 0; o < O; o++) want[m * O + o] = b.data[m];
    for (let c = 0; c < C; c++) for (let i = 0; i < S; i++) for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) {
      const o = i * stride + k - pb;
      if (o >= 0 && o < O) want[m * O + o] += x.data[c * S + i] * w.data[(c * M + m) * K + k];
    }
    const outs = await runBoth({ nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { strides: [stride], pads: [pb, pe] } }],
      initializers: { w, b }, inputs: ['x'], outputs: ['y'] }, { x });
    for (const o of outs) expectClose(o.y, { shape: [1, M, O], data: want });
  });

  it('ConvTranspose output_shape and SAME_UPPER put the extra padding where ONNX says', async () => {
    const x = rn([1, 1, 3, 3]), w = rn([1, 2, 3, 3]);
    const full = (await runBoth({ nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attrs: { strides: [2, 2] } }],
      initializers: { w }, inputs: ['x'], outputs: ['y'] }, { x }))[1].y;
    expect(full.shape).toEqual([1, 2, 7, 7]);
    // SAME_UPPER: output 3 * 2 = 6, total padding 1, at the end.
    const outs = await runBoth({ nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attrs: { strides: [2, 2], auto_pad: 'SAME_UPPER' } }],
      initializers: { w }, inputs: ['x'], outputs: ['y'] }, { x });
    const crop = new Float32Array(2 * 36);
    for (let c = 0; c < 2; c++) for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) crop[c * 36 + i * 6 + j] = full.data[c * 49 + i * 7 + j];
    for (const o of outs) expectClose(o.y, { shape: [1, 2, 6, 6], data: crop });
  });
});

describe('N-D pooling', () => {
  it('2-D pools with windows far wider than the input and asymmetric padding match the N-D reference', async () => {
    // Asymmetric padding runs on the JS kernel, which loops over each window's real taps only.
    const x = rn([1, 2, 5, 7]);
    const cases: [string, Record<string, number | number[] | string>, number[]][] = [
      ['MaxPool', { kernel_shape: [3, 999], strides: [2, 3], auto_pad: 'SAME_UPPER' }, [1, 1]],
      ['MaxPool', { kernel_shape: [4, 301], strides: [1, 2], dilations: [2, 3], pads: [3, 450, 2, 451] }, [2, 3]],
      ['AveragePool', { kernel_shape: [2, 999], strides: [2, 5], auto_pad: 'SAME_LOWER', count_include_pad: 1 }, [1, 1]],
      ['AveragePool', { kernel_shape: [2, 999], strides: [2, 5], pads: [1, 400, 0, 597] }, [1, 1]],
    ];
    for (const [op, attrs, d] of cases) {
      const outs = await runBoth({ nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs }], inputs: ['x'], outputs: ['y'] }, { x });
      const k = attrs.kernel_shape as number[], s = attrs.strides as number[];
      const pads = (attrs.pads as number[] | undefined) ?? nd.autoPads(attrs.auto_pad as string, [0, 0, 0, 0], [5, 7], k, s, d);
      const [want] = nd.poolNd('ref', x, op === 'MaxPool', { k, s, d, pads, ceil: false, includePad: attrs.count_include_pad === 1, storageOrder: 0 });
      for (const o of outs) expectClose(o.y, want);
    }
  });

  /** [N, C, H, W] -> [N, C, 1, H, W] */
  const lift = (t: Tensor): Tensor => t.reshape([t.shape[0], t.shape[1], 1, t.shape[2], t.shape[3]]);
  const cases: [string, Record<string, number | number[]>][] = [
    ['strides and pads', { kernel_shape: [1, 3, 2], strides: [1, 2, 1], pads: [0, 1, 1, 0, 1, 0] }],
    ['ceil_mode', { kernel_shape: [1, 3, 3], strides: [1, 2, 2], ceil_mode: 1 }],
    ['count_include_pad', { kernel_shape: [1, 3, 3], pads: [0, 1, 1, 0, 1, 1], count_include_pad: 1 }],
  ];
  for (const [name, attrs] of cases) {
    for (const op of ['MaxPool', 'AveragePool']) {
      if (op === 'MaxPool' && 'count_include_pad' in attrs) continue;
      it(`3-D ${op} (${name}) matches the 2-D op on a depth-1 volume`, async () => {
        const x = rn([2, 3, 7, 6]);
        const k = attrs.kernel_shape as number[], st = (attrs.strides as number[] | undefined) ?? [1, 1, 1];
        const p = (attrs.pads as number[] | undefined) ?? [0, 0, 0, 0, 0, 0];
        const o2 = { kernelSize: [k[1], k[2]] as [number, number], stride: [st[1], st[2]] as [number, number] };
        // 2-D reference through the 2-D ONNX op (asymmetric pads included).
        const ref = (await runBoth({
          nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs: { ...attrs, kernel_shape: [k[1], k[2]], strides: [st[1], st[2]], pads: [p[1], p[2], p[4], p[5]] } }],
          inputs: ['x'], outputs: ['y'],
        }, { x }))[1].y;
        if (name === 'ceil_mode') {
          const direct = op === 'MaxPool' ? ops.maxPool2d(x, { ...o2, ceilMode: true }) : ops.avgPool2d(x, { ...o2, ceilMode: true, countIncludePad: false });
          expectClose(ref, direct);
        }
        const outs = await runBoth({ nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs }], inputs: ['x'], outputs: ['y'] }, { x: lift(x) });
        for (const o of outs) expectClose(o.y, { shape: lift(ref).shape, data: ref.data });
      });
    }
  }

  it('1-D MaxPool with Indices: values and flat indices over the whole input', async () => {
    const x = Tensor.from([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], [1, 2, 6]);
    const outs = await runBoth({
      nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y', 'i'], attrs: { kernel_shape: [3], strides: [2], pads: [1, 1] } }],
      inputs: ['x'], outputs: ['y', 'i'],
    }, { x });
    for (const o of outs) {
      expect([...o.y.toArray()]).toEqual([3, 4, 9, 6, 6, 8]);
      expect([...o.i.toArray()]).toEqual([0, 2, 5, 7, 7, 11]);
    }
  });

  it('GlobalAveragePool and GlobalMaxPool on 3-D and 5-D inputs', async () => {
    for (const shape of [[2, 3, 5], [1, 2, 3, 4, 2]]) {
      const x = rn(shape);
      const [N, C] = shape, inner = prod(shape.slice(2));
      const mean = new Float32Array(N * C), max = new Float32Array(N * C).fill(-Infinity);
      for (let nc = 0; nc < N * C; nc++) {
        for (let i = 0; i < inner; i++) { mean[nc] += x.data[nc * inner + i] / inner; max[nc] = Math.max(max[nc], x.data[nc * inner + i]); }
      }
      const outs = await runBoth({
        nodes: [{ op: 'GlobalAveragePool', inputs: ['x'], outputs: ['a'] }, { op: 'GlobalMaxPool', inputs: ['x'], outputs: ['m'] }],
        inputs: ['x'], outputs: ['a', 'm'],
      }, { x });
      const os = [N, C, ...shape.slice(2).map(() => 1)];
      for (const o of outs) { expectClose(o.a, { shape: os, data: mean }); expectClose(o.m, { shape: os, data: max }); }
    }
  });
});

describe('normalisation and softmax', () => {
  it('BatchNormalization on a 5-D input', async () => {
    const x = rn([2, 3, 2, 3, 4]);
    const scale = rn([3]), bias = rn([3]), mean = rn([3]), v = Tensor.from([0.5, 1.5, 2], [3]);
    const inner = 24, want = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const c = Math.floor(i / inner) % 3;
      want[i] = (x.data[i] - mean.data[c]) / Math.sqrt(v.data[c] + 1e-3) * scale.data[c] + bias.data[c];
    }
    const outs = await runBoth({
      nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'], attrs: { epsilon: 1e-3 } }],
      initializers: { s: scale, b: bias, m: mean, v }, inputs: ['x'], outputs: ['y'],
    }, { x });
    for (const o of outs) expectClose(o.y, { shape: x.shape, data: want });
  });

  it('opset < 13 Softmax, LogSoftmax and Hardmax normalise over the flattened tail from axis', async () => {
    const x = rn([2, 3, 4]);
    const outs = await runBoth({
      nodes: [
        { op: 'Softmax', inputs: ['x'], outputs: ['s'], attrs: { axis: 1 } },
        { op: 'LogSoftmax', inputs: ['x'], outputs: ['l'], attrs: { axis: 1 } },
        { op: 'Hardmax', inputs: ['x'], outputs: ['h'], attrs: { axis: 1 } },
      ],
      inputs: ['x'], outputs: ['s', 'l', 'h'], opset: 11,
    }, { x });
    const soft = new Float32Array(24), logs = new Float32Array(24), hard = new Float32Array(24);
    for (let n = 0; n < 2; n++) {
      const row = [...x.data.subarray(n * 12, n * 12 + 12)];
      const m = Math.max(...row), z = row.reduce((a, v) => a + Math.exp(v - m), 0);
      row.forEach((v, i) => { soft[n * 12 + i] = Math.exp(v - m) / z; logs[n * 12 + i] = v - m - Math.log(z); });
      hard[n * 12 + row.indexOf(m)] = 1;
    }
    for (const o of outs) {
      expectClose(o.s, { shape: [2, 3, 4], data: soft });
      expectClose(o.l, { shape: [2, 3, 4], data: logs });
      expectClose(o.h, { shape: [2, 3, 4], data: hard });
    }
  });
});

describe('Upsample and values bound per run', () => {
  it('Upsample-9 linear is Resize-11 linear with asymmetric coordinates; its scales input is bound per run', async () => {
    const x = rn([1, 2, 3, 4]);
    const m = await loadOnnx(buildOnnxModel({
      nodes: [{ op: 'Upsample', inputs: ['x', 'scales'], outputs: ['y'], attrs: { mode: 'linear' } }], inputs: ['x', 'scales'], outputs: ['y'], opset: 9,
    }));
    const r = await loadOnnx(buildOnnxModel({
      nodes: [{ op: 'Resize', inputs: ['x', '', 'scales'], outputs: ['y'], attrs: { mode: 'linear', coordinate_transformation_mode: 'asymmetric' } }],
      initializers: { scales: Tensor.from([1, 1, 2, 1.5], [4]) }, inputs: ['x'], outputs: ['y'], opset: 11,
    }));
    const y1 = m.runAll({ x, scales: Tensor.from([1, 1, 2, 1.5], [4]) }).y;
    expect(y1.shape).toEqual([1, 2, 6, 6]);
    expectClose(y1, r.run(x));
    // Asymmetric: output (i, j) samples input (i / 2, j / 1.5), edge-clamped.
    const at = (c: number, h: number, w: number): number => x.data[c * 12 + Math.min(h, 2) * 4 + Math.min(w, 3)];
    const fy = 5 / 2, fx = 5 / 1.5, h0 = Math.floor(fy), w0 = Math.floor(fx), ry = fy - h0, rx = fx - w0;
    const want = (1 - ry) * ((1 - rx) * at(1, h0, w0) + rx * at(1, h0, w0 + 1)) + ry * ((1 - rx) * at(1, h0 + 1, w0) + rx * at(1, h0 + 1, w0 + 1));
    expect(Math.abs(y1.data[36 + 5 * 6 + 5] - want)).toBeLessThan(1e-5);
    // Other scales, another specialisation; the first is still right.
    expect(m.runAll({ x, scales: Tensor.from([1, 1, 1, 2], [4]) }).y.shape).toEqual([1, 2, 3, 8]);
    expectClose(m.runAll({ x, scales: Tensor.from([1, 1, 2, 1.5], [4]) }).y, y1);
    expect(() => m.runAll({ x, scales: Tensor.from([1, 1, 0.5, 1], [4]) })).toThrow(/Upsample scales \[1,1,0.5,1\] must be >= 1/);
    m.dispose();
    r.dispose();
  });

  it('Upsample-7 nearest (scales attribute) repeats rows and columns', async () => {
    const x = Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]);
    const outs = await runBoth({
      nodes: [{ op: 'Upsample', inputs: ['x'], outputs: ['y'], attrs: { mode: 'nearest', scales: { floats: [1, 1, 2, 3] } } }],
      inputs: ['x'], outputs: ['y'], opset: 7,
    }, { x });
    for (const o of outs) expect([...o.y.toArray()]).toEqual([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4]);
  });

  it('Resize-10 nearest downsampling rounds up (onnxruntime and ONNX opset-10 tests); linear downsampling is refused', async () => {
    const x = Tensor.from([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 2, 4]);
    const scales = Tensor.from([1, 1, 0.6, 0.6], [4]);
    const outs = await runBoth({ nodes: [{ op: 'Resize', inputs: ['x', 's'], outputs: ['y'], attrs: { mode: 'nearest' } }],
      initializers: { s: scales }, inputs: ['x'], outputs: ['y'], opset: 10 }, { x });
    for (const o of outs) expect([...o.y.toArray()]).toEqual([1, 3]);
    const m = await loadOnnx(buildOnnxModel({ nodes: [{ op: 'Resize', inputs: ['x', 's'], outputs: ['y'], attrs: { mode: 'linear' } }],
      initializers: { s: scales }, inputs: ['x'], outputs: ['y'], opset: 10 }), { fuse: false });
    expect(() => m.run(x)).toThrow(/\(Resize\): Resize-10 linear with a scale below 1/);
    m.dispose();
  });
});

describe('refusals name the node, the op and the attribute or input', () => {
  it('unknown attributes and values', async () => {
    const one = (op: string, attrs: Record<string, number | string | number[]>, opset = 13): Promise<unknown> => loadOnnx(buildOnnxModel({
      nodes: [{ op, name: 'n1', inputs: ['x', ...(op === 'Resize' ? ['', 's'] : [])], outputs: ['y'], attrs }],
      initializers: op === 'Resize' ? { s: Tensor.from([1, 1, 2, 2], [4]) } : {}, inputs: ['x'], outputs: ['y'], opset,
    }));
    await expect(one('Resize', { antialias: 1 }, 18)).rejects.toThrow(/node 'n1' \(Resize\) has attribute 'antialias', which is not supported/);
    await expect(one('Resize', { mode: 'area' })).rejects.toThrow(/node 'n1' \(Resize\) attribute 'mode' is 'area', expected one of nearest, linear, cubic/);
    await expect(one('Resize', { coordinate_transformation_mode: 'half_pixel_symmetric' })).rejects.toThrow(/node 'n1' \(Resize\) attribute 'coordinate_transformation_mode'/);
    await expect(one('LayerNormalization', { stash_type: 0 })).rejects.toThrow(/node 'n1' \(LayerNormalization\) attribute 'stash_type' is 0/);
    await expect(one('LRN', { alpha: 1 })).rejects.toThrow(/node 'n1' \(LRN\) has no 'size'/);
    await expect(one('MaxPool', { kernel_shape: [2, 2], storage_order: 2 })).rejects.toThrow(/node 'n1' \(MaxPool\) attribute 'storage_order'/);
  });

  it('ops outside the list: the op types, and the first node of each', async () => {
    const bytes = buildOnnxModel({
      nodes: [
        { op: 'Relu', name: 'r', inputs: ['x'], outputs: ['a'] },
        { op: 'NonMaxSuppression', name: 'nms', inputs: ['a'], outputs: ['b'] },
        { op: 'RoiAlign', inputs: ['b'], outputs: ['c'] },  // the writer names it RoiAlign_2
        { op: 'NonMaxSuppression', name: 'nms2', inputs: ['c'], outputs: ['y'] },
      ],
      inputs: ['x'], outputs: ['y'],
    });
    await expect(loadOnnx(bytes)).rejects.toThrow(/^loadOnnx: node 'nms' \(NonMaxSuppression\), node 'RoiAlign_2' \(RoiAlign\): unsupported op type\(s\): NonMaxSuppression, RoiAlign$/);
  });

  it('a shape-deciding input computed from tensor data is refused at load', async () => {
    const bytes = buildOnnxModel({
      nodes: [
        { op: 'Cast', name: 'c', inputs: ['s'], outputs: ['si'], attrs: { to: 7 } },
        { op: 'Expand', name: 'e', inputs: ['x', 'si'], outputs: ['y'] },
      ],
      inputs: ['x', 's'], outputs: ['y'],
    });
    await expect(loadOnnx(bytes)).rejects.toThrow(/node 'e' \(Expand\) input 1 'si' decides the output shape but is computed from tensor data/);
  });
});

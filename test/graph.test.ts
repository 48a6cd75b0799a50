/**
 * The graph compiler (lib/graph) through its ONNX front end: every planned result is compared
 * with the same file run on the exact ops (`fuse: false`), with hand-computed references, and with
 * the nn models, and the plan itself is inspected (what fused, what runs in place, arena reuse,
 * one recorded native call).
 */
import { describe, it, expect } from 'vitest';
import { geluScalar } from '../lib/backend/js/activation';
import { loadOnnx, buildOnnxModel, onnxFromStateDict } from '../lib/io/onnx/index';
import type { OnnxNodeSpec, OnnxInitializer } from '../lib/io/onnx/index';
import { Tensor, randn, rand } from '../lib/tensor';
import * as ops from '../lib/ops/index';
import { noGrad } from '../lib/autograd/tape';
import { memory, manualSeed, models } from '../lib/index';

let seed = 900;
const rn = (shape: number[], scale = 1): Tensor => {
  const t = randn(shape, { seed: seed++ });
  return scale === 1 ? t : Tensor.from(t.toArray().map((v) => v * scale), shape);
};

/** max |a - b| relative to max |b| (at least 1e-30). */
function relErr(a: Tensor, b: Tensor): number {
  expect([...a.shape]).toEqual([...b.shape]);
  const x = a.toArray(), y = b.toArray();
  let m = 0, s = 1e-30;
  for (let i = 0; i < x.length; i++) { m = Math.max(m, Math.abs(x[i] - y[i])); s = Math.max(s, Math.abs(y[i])); }
  return m / s;
}

interface Spec { nodes: OnnxNodeSpec[]; initializers: Record<string, OnnxInitializer>; x: (number | string)[]; opset?: number }
const build = (s: Spec): Uint8Array => buildOnnxModel({
  nodes: s.nodes, initializers: s.initializers, inputs: [{ name: 'x', shape: s.x }], outputs: s.outputs ?? ['y'], opset: s.opset ?? 13,
});

/** Planned and exact runs of the same file on x; returns both and the plan. */
async function both(bytes: Uint8Array, x: Tensor) {
  const fast = await loadOnnx(bytes);
  const exact = await loadOnnx(bytes, { fuse: false });
  const y = fast.run(x), ye = exact.run(x);
  const info = fast.planInfo(x);
  return { y, ye, info, fast, exact };
}

const algos = (info: { nodes: { algo: string }[] }): string[] => info.nodes.map((n) => n.algo);

function bnInits(p: string, c: number): Record<string, Tensor> {
  return {
    [`${p}.s`]: rand([c], { seed: seed++ }), [`${p}.t`]: rn([c], 0.1), [`${p}.m`]: rn([c], 0.1),
    [`${p}.v`]: Tensor.from(rand([c], { seed: seed++ }).toArray().map((v) => 0.5 + v), [c]),
  };
}
const bnNode = (p: string, x: string, y: string): OnnxNodeSpec => ({ op: 'BatchNormalization', inputs: [x, `${p}.s`, `${p}.t`, `${p}.m`, `${p}.v`], outputs: [y] });

describe('graph compiler: fusion', () => {
  it('folds batch norm and fuses Relu, Clip (ReLU6), LeakyRelu, Sigmoid, HardSigmoid, HardSwish and SiLU into the convolution', async () => {
    const acts: [string, OnnxNodeSpec[], Record<string, OnnxInitializer>, string][] = [
      ['relu', [{ op: 'Relu', inputs: ['n'], outputs: ['y'] }], {}, '+relu'],
      ['relu6', [{ op: 'Clip', inputs: ['n', 'lo', 'hi'], outputs: ['y'] }], { lo: Tensor.from([0], []), hi: Tensor.from([6], []) }, '+clip'],
      ['leaky', [{ op: 'LeakyRelu', inputs: ['n'], outputs: ['y'], attrs: { alpha: 0.2 } }], {}, '+leakyRelu'],
      ['sigmoid', [{ op: 'Sigmoid', inputs: ['n'], outputs: ['y'] }], {}, '+sigmoid'],
      ['hardSigmoid', [{ op: 'HardSigmoid', inputs: ['n'], outputs: ['y'], attrs: { alpha: 0.25, beta: 0.4 } }], {}, '+hardSigmoid'],
      ['hardSwish', [{ op: 'HardSwish', inputs: ['n'], outputs: ['y'] }], {}, '+hardSwish'],
      ['silu', [{ op: 'Sigmoid', inputs: ['n'], outputs: ['g'] }, { op: 'Mul', inputs: ['n', 'g'], outputs: ['y'] }], {}, '+silu'],
      // nn.Hardswish as torch.onnx.export writes it before opset 14.
      ['hardSwish as x * HardSigmoid(x)', [{ op: 'HardSigmoid', inputs: ['n'], outputs: ['g'], attrs: { alpha: 1 / 6, beta: 0.5 } },
        { op: 'Mul', inputs: ['g', 'n'], outputs: ['y'] }], {}, '+hardSwish'],
    ];
    for (const [name, tail, extra, tag] of acts) {
      const bytes = build({
        nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } }, bnNode('bn', 'c', 'n'), ...tail],
        initializers: { w: rn([24, 8, 3, 3], 0.5), b: rn([24], 0.1), ...bnInits('bn', 24), ...extra },
        x: ['N', 8, 10, 10],
      });
      const x = rn([2, 8, 10, 10]);
      const { y, ye, info } = await both(bytes, x);
      expect(info.nodes.length, name).toBe(1);
      expect(info.nodes[0].algo, name).toContain(tag);
      expect(relErr(y, ye), name).toBeLessThan(1e-5);
    }
  });

  it('x * HardSigmoid(x) with constants other than HardSwish\'s is not fused into a HardSwish', async () => {
    const bytes = build({
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['n'] },
        { op: 'HardSigmoid', inputs: ['n'], outputs: ['g'], attrs: { alpha: 0.2, beta: 0.5 } },
        { op: 'Mul', inputs: ['n', 'g'], outputs: ['y'] }],
      initializers: { w: rn([8, 4, 1, 1], 0.5) }, x: ['N', 4, 6, 6],
    });
    const x = rn([2, 4, 6, 6], 3);
    const { y, ye, info } = await both(bytes, x);
    expect(algos(info).some((a) => a.includes('hardSwish'))).toBe(false);
    expect(info.nodes.length).toBe(3);
    expect(relErr(y, ye)).toBeLessThan(1e-6);
  });

  it('the fused activations compute what the formulas say (against hand-written references)', async () => {
    const x = Tensor.from([-9, -3, -1, -0.5, 0, 0.5, 1, 3, 5, 9, NaN, Infinity], [1, 12]);
    const ref: Record<string, (v: number) => number> = {
      HardSigmoid: (v) => Math.max(0, Math.min(1, 0.2 * v + 0.5)),
      HardSwish: (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5)),
    };
    for (const [op, f] of Object.entries(ref)) {
      const m = await loadOnnx(build({ nodes: [{ op, inputs: ['x'], outputs: ['y'] }], initializers: {}, x: [1, 12] }));
      const y = m.run(x).toArray();
      x.toArray().forEach((v, i) => {
        const want = f(v);
        if (Number.isNaN(want)) expect(Number.isNaN(y[i]), `${op}(${v})`).toBe(true);
        else expect(y[i], `${op}(${v})`).toBeCloseTo(want, 6);
      });
    }
  });

  it('fuses the residual add (and the ReLU after it) into the convolution, even when the shortcut is computed later', async () => {
    // y = relu(bn(conv_b(relu(bn(conv_a(x))))) + bn(conv_s(t(x)))), t a chain of six activations, so that
    // the loader's topological order puts conv_s after conv_b (the fused convolution must move).
    const chain: OnnxNodeSpec[] = [];
    for (let i = 0; i < 6; i++) chain.push({ op: i % 2 ? 'Tanh' : 'Sigmoid', inputs: [i ? `t${i - 1}` : 'x'], outputs: [`t${i}`] });
    const bytes = build({
      nodes: [
        ...chain,
        { op: 'Conv', inputs: ['x', 'wa'], outputs: ['a'], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } }, bnNode('ba', 'a', 'an'),
        { op: 'Relu', inputs: ['an'], outputs: ['ar'] },
        { op: 'Conv', inputs: ['ar', 'wb'], outputs: ['b'], attrs: { pads: [1, 1, 1, 1] } }, bnNode('bb', 'b', 'bn'),
        { op: 'Conv', inputs: ['t5', 'ws'], outputs: ['s'], attrs: { strides: [2, 2] } }, bnNode('bs', 's', 'sn'),
        { op: 'Add', inputs: ['bn', 'sn'], outputs: ['sum'] },
        { op: 'Relu', inputs: ['sum'], outputs: ['y'] },
      ],
      initializers: { wa: rn([32, 16, 3, 3], 0.2), wb: rn([32, 32, 3, 3], 0.2), ws: rn([32, 16, 1, 1], 0.3),
        ...bnInits('ba', 32), ...bnInits('bb', 32), ...bnInits('bs', 32) },
      x: ['N', 16, 28, 28],
    });
    const x = rn([1, 16, 28, 28]);
    const { y, ye, info } = await both(bytes, x);
    expect(info.nodes.length).toBe(9);
    const at = algos(info).findIndex((a) => a.includes('+residual') && a.includes('+relu'));
    expect(at).toBe(8);
    expect(relErr(y, ye)).toBeLessThan(1e-5);
  });

  it('a bottleneck\'s last 1x1 layer and its residual run as one GEMM from the residual on maps of 28x28 and more, packed below', async () => {
    // y = act(bn(conv1x1(relu(conv3x3(x)))) + x): the shortcut is the block's input, read twice.
    for (const [hw, algo] of [[28, 'pointwise'], [14, 'packed']] as const) {
      for (const [act, tag] of [['Relu', '+relu'], ['Sigmoid', '+sigmoid']] as const) {
        const bytes = build({
          nodes: [
            { op: 'Conv', inputs: ['x', 'wa'], outputs: ['a'], attrs: { pads: [1, 1, 1, 1] } },
            { op: 'Relu', inputs: ['a'], outputs: ['ar'] },
            { op: 'Conv', inputs: ['ar', 'wb', 'bb'], outputs: ['b'] }, bnNode('bn', 'b', 'bn'),
            { op: 'Add', inputs: ['bn', 'x'], outputs: ['sum'] },
            { op: act, inputs: ['sum'], outputs: ['y'] },
          ],
          initializers: { wa: rn([16, 48, 3, 3], 0.1), wb: rn([48, 16, 1, 1], 0.3), bb: rn([48], 0.1), ...bnInits('bn', 48) },
          x: ['N', 48, hw, hw],
        });
        const x = rn([2, 48, hw, hw]);
        const { y, ye, info } = await both(bytes, x);
        expect(algos(info)[1], `${hw}x${hw} ${act}`).toBe(`${algo} 1x1/1 ${tag} +residual`);
        expect(relErr(y, ye), `${hw}x${hw} ${act}`).toBeLessThan(1e-5);
      }
    }
  });

  it('a MatMul by a constant is a batched dense layer; batch norm after it is not folded (its axis 1 is not the features)', async () => {
    // [N, 4, 3, 4] x [4, 4]: the features (last axis) and batch norm's channels (axis 1) both number 4.
    const bytes = build({
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] }, bnNode('bn', 'h', 'y')],
      initializers: { w: rn([4, 4]), ...bnInits('bn', 4) }, x: ['N', 4, 3, 4],
    });
    const x = rn([2, 4, 3, 4]);
    const { y, ye, info } = await both(bytes, x);
    expect(algos(info)).toEqual(['dense', 'batchNorm']);
    expect(relErr(y, ye)).toBeLessThan(1e-5);
  });

  it('keeps exact what another node or a graph output still reads', async () => {
    const bytes = buildOnnxModel({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'Add', inputs: ['r', 'c'], outputs: ['y'] },
      ],
      initializers: { w: rn([8, 4, 1, 1]) }, inputs: [{ name: 'x', shape: [1, 4, 5, 5] }], outputs: ['y', 'c'],
    });
    const x = rn([1, 4, 5, 5]);
    const m = await loadOnnx(bytes);
    const r = m.runAll(x);
    const c = ops.conv2d(x, (m.graph.constants.get('w') as Tensor), null);
    expect(relErr(r.c, c)).toBeLessThan(1e-6);
    expect(relErr(r.y, ops.add(ops.relu(c), c))).toBeLessThan(1e-6);
  });
});

describe('graph compiler: planning', () => {
  it('writes Concat inputs in place at batch 1; at batch 2 the 1x1 convolution writes per image into its slices, the 3x3 (weights as large as its output per image) and the pool are copied, with the same numbers', async () => {
    const bytes = build({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w1'], outputs: ['a'] },
        { op: 'Conv', inputs: ['x', 'w2', 'b2'], outputs: ['b'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['b'], outputs: ['br'] },
        { op: 'MaxPool', inputs: ['x'], outputs: ['p'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] } },
        { op: 'Concat', inputs: ['a', 'br', 'p'], outputs: ['y'], attrs: { axis: 1 } },
      ],
      initializers: { w1: rn([5, 6, 1, 1]), w2: rn([7, 6, 3, 3]), b2: rn([7]) },
      x: ['N', 6, 9, 9],
    });
    for (const N of [1, 2]) {
      const x = rn([N, 6, 9, 9]);
      const { y, ye, info } = await both(bytes, x);
      expect(y.shape).toEqual([N, 18, 9, 9]);
      expect(algos(info).includes(N === 1 ? 'concat in place' : 'concat, 1 of 3 inputs in place')).toBe(true);
      expect(algos(info).filter((a) => a.endsWith(' per image'))).toEqual(N === 1 ? [] : ['packed 1x1/1 per image']);
      expect(info.recorded).toBe(true);
      expect(relErr(y, ye)).toBeLessThan(1e-5);
    }
  });

  it('DenseNet-style concats of shared features: the inputs read elsewhere are copied, the rest written in place', async () => {
    // y1 = conv(x); z1 = [x, y1]; y2 = conv(z1); y = [x, y1, y2]: x and y1 feed two concats each.
    const bytes = build({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w1'], outputs: ['y1'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Concat', inputs: ['x', 'y1'], outputs: ['z1'], attrs: { axis: 1 } },
        { op: 'Conv', inputs: ['z1', 'w2', 'b2'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c2'], outputs: ['y2'] },
        { op: 'Concat', inputs: ['x', 'y1', 'y2'], outputs: ['y'], attrs: { axis: 1 } },
      ],
      initializers: { w1: rn([3, 4, 3, 3]), w2: rn([5, 7, 3, 3]), b2: rn([5]) },
      x: ['N', 4, 7, 7],
    });
    for (const N of [1, 3]) {
      const x = rn([N, 4, 7, 7]);
      const { y, ye, info } = await both(bytes, x);
      expect(y.shape).toEqual([N, 12, 7, 7]);
      expect(info.recorded).toBe(true);
      const concats = info.nodes.filter((n) => /Concat/.test(n.node)).map((n) => n.algo);
      expect(concats).toEqual(N === 1 ? ['concat by copy', 'concat, 1 of 3 inputs in place'] : ['concat by copy', 'concat by copy']);
      expect(relErr(y, ye)).toBeLessThan(1e-5);
      // The first channels are x itself, bit for bit.
      const yd = y.toArray(), xd = x.toArray();
      for (let n = 0; n < N; n++) for (let i = 0; i < 4 * 49; i++) expect(yd[n * 12 * 49 + i]).toBe(xd[n * 4 * 49 + i]);
    }
  });

  it('folds a zero Pad into the average pool (counting the pads) or the convolution it feeds; keeps other pads', async () => {
    const pads = { dims: [8], int64: [0, 0, 1, 2, 0, 0, 1, 2] };
    // Pad -> AveragePool k3 s1 is PyTorch's F.avg_pool2d(padding, count_include_pad=True).
    let bytes = build({
      nodes: [
        { op: 'Pad', inputs: ['x', 'p'], outputs: ['q'] },
        { op: 'AveragePool', inputs: ['q'], outputs: ['y'], attrs: { kernel_shape: [3, 5], strides: [1, 1] } },
      ],
      initializers: { p: pads }, x: [2, 3, 6, 8],
    });
    let x = rn([2, 3, 6, 8]);
    let r = await both(bytes, x);
    expect(algos(r.info)).toEqual(['avgPool 3x5/1']);
    expect(r.info.recorded).toBe(true);
    expect(relErr(r.y, ops.avgPool2d(x, { kernelSize: [3, 5], stride: 1, padding: [1, 2], countIncludePad: true }))).toBeLessThan(1e-6);
    expect(relErr(r.y, r.ye)).toBeLessThan(1e-6);
    // Pad -> Conv (which has pads of its own).
    const w = rn([4, 3, 3, 3]);
    bytes = build({
      nodes: [
        { op: 'Pad', inputs: ['x', 'p'], outputs: ['q'] },
        { op: 'Conv', inputs: ['q', 'w'], outputs: ['y'], attrs: { pads: [0, 1, 0, 1] } },
      ],
      initializers: { p: { dims: [8], int64: [0, 0, 1, 0, 0, 0, 1, 0] }, w }, x: [2, 3, 6, 8],
    });
    r = await both(bytes, x);
    expect(r.info.nodes.length).toBe(1);
    expect(relErr(r.y, ops.conv2d(x, w, null, { padding: 1 }))).toBeLessThan(1e-5);
    // Max pooling pads with -inf, not 0; a pad value of 1 is not a zero pad; a pad read twice stays.
    for (const [spec, value] of [['max', 0], ['avg', 1]] as const) {
      bytes = build({
        nodes: [
          { op: 'Pad', inputs: ['x', 'p', 'v'], outputs: ['q'] },
          { op: spec === 'max' ? 'MaxPool' : 'AveragePool', inputs: ['q'], outputs: ['y'], attrs: { kernel_shape: [3, 3] } },
        ],
        initializers: { p: pads, v: { dims: [], float: [value] } }, x: [2, 3, 6, 8],
      });
      x = rn([2, 3, 6, 8]);
      r = await both(bytes, x);
      expect(r.info.nodes.length).toBe(2);
      expect(relErr(r.y, r.ye)).toBe(0);
    }
    bytes = build({
      nodes: [
        { op: 'Pad', inputs: ['x', 'p'], outputs: ['q'] },
        { op: 'AveragePool', inputs: ['q'], outputs: ['a'], attrs: { kernel_shape: [3, 3] } },
        { op: 'MaxPool', inputs: ['q'], outputs: ['b'], attrs: { kernel_shape: [3, 3] } },
        { op: 'Add', inputs: ['a', 'b'], outputs: ['y'] },
      ],
      initializers: { p: pads }, x: [2, 3, 6, 8],
    });
    r = await both(bytes, x);
    expect(r.info.nodes.length).toBe(4);
    expect(relErr(r.y, r.ye)).toBeLessThan(1e-6);
  });

  it("ConvNeXt's channels-last block (Transpose, LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div, MatMul, GELU with Erf) is one recorded plan", async () => {
    const C = 8, H = 5, W = 6;
    const gamma = rn([C]), beta = rn([C]), w1 = rn([C, 2 * C], 0.3), b1 = rn([2 * C]);
    const scalar = (v: number): OnnxInitializer => ({ dims: [], float: [v] });
    const bytes = build({
      nodes: [
        { op: 'Transpose', inputs: ['x'], outputs: ['t'], attrs: { perm: [0, 2, 3, 1] } },
        { op: 'ReduceMean', inputs: ['t'], outputs: ['mu'], attrs: { axes: [-1] } },
        { op: 'Sub', inputs: ['t', 'mu'], outputs: ['d'] },
        { op: 'Pow', inputs: ['d', 'two'], outputs: ['d2'] },
        { op: 'ReduceMean', inputs: ['d2'], outputs: ['var'], attrs: { axes: [-1] } },
        { op: 'Add', inputs: ['var', 'eps'], outputs: ['ve'] },
        { op: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
        { op: 'Div', inputs: ['d', 'sd'], outputs: ['nrm'] },
        { op: 'Mul', inputs: ['nrm', 'gamma'], outputs: ['g'] },
        { op: 'Add', inputs: ['g', 'beta'], outputs: ['ln'] },
        { op: 'MatMul', inputs: ['ln', 'w1'], outputs: ['h'] },
        { op: 'Add', inputs: ['b1', 'h'], outputs: ['hb'] },
        { op: 'Div', inputs: ['hb', 'sqrt2'], outputs: ['hs'] },
        { op: 'Erf', inputs: ['hs'], outputs: ['e'] },
        { op: 'Add', inputs: ['e', 'one'], outputs: ['e1'] },
        { op: 'Mul', inputs: ['hb', 'e1'], outputs: ['gm'] },
        { op: 'Mul', inputs: ['gm', 'half'], outputs: ['gelu'] },
        { op: 'Transpose', inputs: ['gelu'], outputs: ['y'], attrs: { perm: [0, 3, 1, 2] } },
      ],
      initializers: { two: scalar(2), eps: scalar(1e-6), gamma, beta, w1, b1, sqrt2: scalar(Math.SQRT2), one: scalar(1), half: scalar(0.5) },
      x: ['N', C, H, W],
    });
    const erf = (v: number): number => {
      // The Maclaurin series in float64, independent of the library's erf (|v| < 6 here).
      let term = v, sum = v;
      for (let n = 1; n < 200; n++) { term *= (-v * v) / n; sum += term / (2 * n + 1); }
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    for (const N of [1, 2]) {
      const x = rn([N, C, H, W]);
      const { y, ye, info } = await both(bytes, x);
      expect(info.recorded).toBe(true);
      // LayerNorm's nine ops are one layerNorm step, the bias Add joins the MatMul's dense layer,
      // and GELU's five ops are its epilogue.
      expect(algos(info)).toEqual(['transpose', 'layerNorm', 'dense +gelu', 'transpose']);
      expect(relErr(y, ye)).toBeLessThan(2e-6);
      // Hand-written reference, per pixel: LayerNorm over the channels, Linear, exact GELU.
      const xd = x.toArray(), gd = gamma.toArray(), bd = beta.toArray(), wd = w1.toArray(), b1d = b1.toArray();
      const want = new Float32Array(N * 2 * C * H * W);
      for (let n = 0; n < N; n++) for (let p = 0; p < H * W; p++) {
        const v = Array.from({ length: C }, (_, c) => xd[(n * C + c) * H * W + p]);
        const mu = v.reduce((q, t) => q + t, 0) / C;
        const sd = Math.sqrt(v.reduce((q, t) => q + (t - mu) ** 2, 0) / C + 1e-6);
        const ln = v.map((t, c) => ((t - mu) / sd) * gd[c] + bd[c]);
        for (let o = 0; o < 2 * C; o++) {
          let h = b1d[o];
          for (let c = 0; c < C; c++) h += ln[c] * wd[c * 2 * C + o];
          want[(n * 2 * C + o) * H * W + p] = 0.5 * h * (1 + erf(h / Math.SQRT2));
        }
      }
      expect(relErr(y, Tensor.from(want, [N, 2 * C, H, W]))).toBeLessThan(2e-6);
    }
  });

  it('layer norm and GELU fused only where the pattern holds: a weight of another length runs the exact ops, a read intermediate stays', async () => {
    const C = 6;
    const scalar = (v: number): OnnxInitializer => ({ dims: [], float: [v] });
    const ln = (gammaName: string): OnnxNodeSpec[] => [
      { op: 'ReduceMean', inputs: ['x'], outputs: ['mu'], attrs: { axes: [-1] } },
      { op: 'Sub', inputs: ['x', 'mu'], outputs: ['d'] },
      { op: 'Pow', inputs: ['d', 'two'], outputs: ['d2'] },
      { op: 'ReduceMean', inputs: ['d2'], outputs: ['var'], attrs: { axes: [-1] } },
      { op: 'Add', inputs: ['var', 'eps'], outputs: ['ve'] },
      { op: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
      { op: 'Div', inputs: ['d', 'sd'], outputs: ['nrm'] },
      { op: 'Mul', inputs: ['nrm', gammaName], outputs: ['y'] },
    ];
    const inits = { two: scalar(2), eps: scalar(1e-5), g6: rn([C]), g1: rn([1]) };
    const x = rn([2, 3, C]);
    // A weight along the last axis: one layerNorm step.
    let r = await both(build({ nodes: ln('g6'), initializers: inits, x: [2, 3, C] }), x);
    expect(algos(r.info)).toEqual(['layerNorm']);
    expect(relErr(r.y, r.ye)).toBeLessThan(2e-6);
    // A one-element weight broadcasts over the rows: fused at load, but planned as the exact ops.
    r = await both(build({ nodes: ln('g1'), initializers: inits, x: [2, 3, C] }), x);
    expect(r.info.nodes.length).toBe(1);
    expect(algos(r.info)[0]).toMatch(/^exact/);
    expect(relErr(r.y, r.ye)).toBe(0);
    // The centred value is also a graph output: nothing fused, the same numbers.
    const bytes = build({ nodes: ln('g6'), initializers: inits, x: [2, 3, C], outputs: ['y', 'd'] });
    const fast = await loadOnnx(bytes), exact = await loadOnnx(bytes, { fuse: false });
    expect(algos(fast.planInfo(x))).not.toContain('layerNorm');
    const a = fast.runAll(x), b = exact.runAll(x);
    expect(relErr(a.y, b.y)).toBeLessThan(2e-6);

    // GELU whose Erf output is read twice: not fused (the ops run natively one by one).
    const gelu = build({
      nodes: [
        { op: 'Div', inputs: ['x', 'sqrt2'], outputs: ['hs'] },
        { op: 'Erf', inputs: ['hs'], outputs: ['e'] },
        { op: 'Add', inputs: ['e', 'one'], outputs: ['e1'] },
        { op: 'Mul', inputs: ['x', 'e1'], outputs: ['gm'] },
        { op: 'Mul', inputs: ['gm', 'half'], outputs: ['g'] },
        { op: 'Add', inputs: ['g', 'e'], outputs: ['y'] },
      ],
      initializers: { sqrt2: scalar(Math.SQRT2), one: scalar(1), half: scalar(0.5) }, x: [2, 3, C],
    });
    r = await both(gelu, x);
    expect(algos(r.info)).not.toContain('gelu');
    expect(relErr(r.y, r.ye)).toBeLessThan(2e-6);
    // The same without the extra reader: one gelu step, against float64 x/2 * (1 + erf(x / sqrt 2)).
    const gelu1 = build({
      nodes: [
        { op: 'Div', inputs: ['x', 'sqrt2'], outputs: ['hs'] },
        { op: 'Erf', inputs: ['hs'], outputs: ['e'] },
        { op: 'Add', inputs: ['one', 'e'], outputs: ['e1'] },
        { op: 'Mul', inputs: ['e1', 'x'], outputs: ['gm'] },
        { op: 'Mul', inputs: ['half', 'gm'], outputs: ['y'] },
      ],
      initializers: { sqrt2: scalar(Math.SQRT2), one: scalar(1), half: scalar(0.5) }, x: [2, 3, C],
    });
    r = await both(gelu1, x);
    expect(algos(r.info)).toEqual(['gelu']);
    expect(relErr(r.y, r.ye)).toBeLessThan(1e-6);
    const want = x.toArray().map((v) => geluScalar(v));
    expect(relErr(r.y, Tensor.from(Float32Array.from(want), x.shape))).toBeLessThan(1e-6);
  });

  it('reuses arena buffers by liveness: a long chain needs two buffers, not one per value', async () => {
    const nodes: OnnxNodeSpec[] = [];
    let prev = 'x';
    for (let i = 0; i < 12; i++) {
      nodes.push({ op: i % 2 ? 'Sigmoid' : 'Tanh', inputs: [prev], outputs: [i === 11 ? 'y' : `h${i}`] });
      prev = `h${i}`;
    }
    const x = rn([1, 64, 16, 16]);
    const { y, ye, info } = await both(build({ nodes, initializers: {}, x: [1, 64, 16, 16] }), x);
    expect(relErr(y, ye)).toBe(0);
    const one = 64 * 16 * 16 * 4;
    expect(info.bufferBytes).toBe(13 * one);  // the input and 12 outputs
    expect(info.arenaBytes).toBeLessThanOrEqual(3 * one);
  });

  it('records an all-native plan as one call; a plan with a JS-thread step still runs (sync and async)', async () => {
    const conv = build({ nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'] }], initializers: { w: rn([4, 3, 3, 3]) }, x: ['N', 3, 8, 8] });
    const x = rn([1, 3, 8, 8]);
    const m = await loadOnnx(conv);
    expect(m.planInfo(x).recorded).toBe(true);
    const ya = await m.runAsync(x);
    expect(relErr(ya, m.run(x))).toBe(0);
    // A general broadcast ([4,1] + [3]) has no native kernel: computed exactly on the JS thread.
    const bc = buildOnnxModel({
      nodes: [{ op: 'Add', inputs: ['x', 'k'], outputs: ['s'] }, { op: 'Relu', inputs: ['s'], outputs: ['y'] }],
      initializers: { k: rn([3]) }, inputs: [{ name: 'x', shape: [4, 1] }], outputs: ['y'],
    });
    const mb = await loadOnnx(bc);
    const xb = rn([4, 1]);
    expect(mb.planInfo(xb).recorded).toBe(false);
    const want = (await loadOnnx(bc, { fuse: false })).run(xb);
    expect(relErr(mb.run(xb), want)).toBe(0);
    expect(relErr(await mb.runAsync(xb), want)).toBe(0);
  });

  it('plans per input shape (dynamic batch): each row of a batch matches the batch-1 result', async () => {
    manualSeed(7);
    const net = models.lenet5({ inputSize: 28 }).eval();
    const m = await loadOnnx(onnxFromStateDict.lenet5(net.stateDict()));
    const xs = rn([3, 1, 28, 28]);
    const yb = m.run(xs).toArray();
    for (let i = 0; i < 3; i++) {
      const xi = Tensor.from(xs.toArray().subarray(i * 784, (i + 1) * 784), [1, 1, 28, 28]);
      const yi = m.run(xi).toArray();
      for (let k = 0; k < 10; k++) expect(Math.abs(yb[i * 10 + k] - yi[k])).toBeLessThan(1e-5);
    }
    const ref = noGrad(() => net.call(xs));
    expect(relErr(m.run(xs), ref)).toBeLessThan(1e-5);
  });

  it('overlapping runAsync calls each get a plan of their own and agree', async () => {
    const m = await loadOnnx(build({
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } }, { op: 'Relu', inputs: ['c'], outputs: ['y'] }],
      initializers: { w: rn([16, 8, 3, 3]) }, x: ['N', 8, 32, 32],
    }));
    const a = rn([1, 8, 32, 32]), b = rn([1, 8, 32, 32]);
    const [ya, yb] = await Promise.all([m.runAsync(a), m.runAsync(b)]);
    expect(relErr(ya, m.run(a))).toBe(0);
    expect(relErr(yb, m.run(b))).toBe(0);
  });

  it('ResNet-18 through loadOnnx matches models.resnet18 and the exact ops; dispose frees the plans and weights', async () => {
    manualSeed(11);
    const net = models.resnet18({ numClasses: 10 }).eval();
    const bytes = onnxFromStateDict.resnet18(net.stateDict());
    const x = rn([1, 3, 64, 64]);
    const ref = noGrad(() => net.call(x));
    const before = memory().bytes;
    const { y, ye, info, fast, exact } = await both(bytes, x);
    expect(relErr(y, ye)).toBeLessThan(1e-4);
    expect(relErr(y, ref)).toBeLessThan(1e-4);
    // 20 convolutions (BN folded), 8 with a fused residual; nothing runs on the JS thread.
    const a = algos(info);
    expect(a.filter((s) => /^(winograd|packed|direct)/.test(s)).length).toBe(20);
    expect(a.filter((s) => s.includes('+residual')).length).toBe(8);
    expect(a.some((s) => s.startsWith('exact'))).toBe(false);
    expect(info.recorded).toBe(true);
    fast.dispose();
    exact.dispose();
    y.dispose(); ye.dispose();
    expect(memory().bytes).toBeLessThanOrEqual(before);
  });
});

/**
 * Planned inference end to end (lib/nn/planned.ts: the module lowered into the graph compiler):
 * eval() + noGrad forwards fold batch norm, fuse
 * ReLU and the residual add into the convolution epilogue, and run on weights prepared once
 * (Winograd-transformed or panel-packed convolutions, packed dense layers). Compared against the
 * same model with setFastInference(false), i.e. every op computed exactly as `ops.*` does (which
 * test/kernels/ops.test.ts checks against the float64 reference).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, models, nn, ops, noGrad, tidy, randn, rand, manualSeed, setBackend, memory } from '../lib/index';
import { loadAddon } from '../lib/backend/loader';
import { firstBitDifference } from './reference/check';

afterAll(() => setBackend('native'));

/** max |a - b| / max |b| */
function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / m;
}

/** Batch norms with non-trivial running statistics and affine parameters. */
function randomizeBatchNorms(m: nn.Module, seed: number): void {
  let s = seed;
  for (const [k, t] of Object.entries(m.stateDict())) {
    if (!/running_mean|running_var|bn\d\.(weight|bias)|downsample\.1\.(weight|bias)/.test(k)) continue;
    const u = noGrad(() => rand(t.shape, { seed: s++ }));
    const d = t.data, r = u.data;
    for (let i = 0; i < d.length; i++) {
      if (k.endsWith('running_var')) d[i] = 0.5 + r[i];
      else if (k.endsWith('running_mean')) d[i] = 0.2 * (r[i] - 0.5);
      else if (k.endsWith('weight')) d[i] = 0.5 + r[i];
      else d[i] = 0.2 * (r[i] - 0.5);
    }
    t.version++;
    u.dispose();
  }
}

/** Counts calls of the addon's planned kernels while fn runs. */
function countCalls(fn: () => void): Record<string, number> {
  const addon = loadAddon() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const names = ['conv2d', 'conv2dWinograd', 'conv2dPacked', 'linearPacked', 'binary', 'unary', 'batchNorm2d'];
  const counts: Record<string, number> = {};
  const saved = names.map((n) => addon[n]);
  names.forEach((n, i) => {
    counts[n] = 0;
    if (!saved[i]) return;
    addon[n] = (...a: unknown[]) => { counts[n]++; return saved[i](...a); };
  });
  try { fn(); } finally { names.forEach((n, i) => { if (saved[i]) addon[n] = saved[i]; }); }
  return counts;
}

function forward(m: nn.Module, x: Tensor): Float32Array {
  return noGrad(() => tidy(() => m.call(x).toArray()));
}

function exact(m: nn.Module, x: Tensor): Float32Array {
  m.setFastInference(false);
  try { return forward(m, x); } finally { m.setFastInference(true); }
}

describe('planned inference', () => {
  setBackend('native');
  manualSeed(31);
  const net = models.resnet18();
  randomizeBatchNorms(net, 100);
  net.eval();
  const x = randn([2, 3, 224, 224], { seed: 5 });
  const ref = exact(net, x);

  it('ResNet-18: Winograd + packed convolutions with fused residual epilogues match the exact path (<1e-4)', () => {
    let got = new Float32Array(0);
    const calls = countCalls(() => { got = forward(net, x); });
    // Every conv runs a prepared kernel but the 1x1 stride-2 downsamples onto 28x28 and 14x14,
    // which take conv2d's GEMM; the residual add and ReLU never run as separate ops.
    expect(calls.conv2dWinograd + calls.conv2dPacked, JSON.stringify(calls)).toBe(18);
    expect(calls.conv2d, JSON.stringify(calls)).toBe(2);
    expect(calls.conv2dWinograd, 'some 3x3 stride-1 layers use Winograd').toBeGreaterThan(0);
    expect(calls.conv2dPacked).toBeGreaterThan(0);
    expect(calls.binary + calls.unary, JSON.stringify(calls)).toBe(0);
    expect(calls.linearPacked).toBe(1);
    expect(relErr(got, ref)).toBeLessThan(1e-4);
  });

  it('with Winograd off every convolution but the two downsamples is packed-direct and closer still (<1e-5)', () => {
    net.setFastInference(true, { winograd: false });
    let got = new Float32Array(0);
    const calls = countCalls(() => { got = forward(net, x); });
    net.setFastInference(true, { winograd: true });
    expect(calls.conv2dWinograd).toBe(0);
    expect(calls.conv2dPacked).toBe(18);
    expect(calls.conv2d).toBe(2);
    expect(relErr(got, ref)).toBeLessThan(1e-5);
  });

  it('packWeights: false uses no prepared copies and frees them; results stay close', () => {
    forward(net, x);
    const withCopies = memory().bytes;
    net.setFastInference(true, { packWeights: false });
    let got = new Float32Array(0);
    const calls = countCalls(() => { got = forward(net, x); });
    expect(calls.conv2dWinograd + calls.conv2dPacked + calls.linearPacked).toBe(0);
    expect(memory().bytes).toBeLessThan(withCopies);
    net.setFastInference(true, { packWeights: true });
    expect(relErr(got, ref)).toBeLessThan(1e-4);
  });

  it('is batch invariant: each image of a batch is bitwise its batch-1 result', () => {
    const full = forward(net, x);
    const per = 1000;
    for (let i = 0; i < 2; i++) {
      const xi = tidy(() => Tensor.from(x.data.subarray(i * 3 * 224 * 224, (i + 1) * 3 * 224 * 224), [1, 3, 224, 224]));
      const one = forward(net, xi);
      expect(firstBitDifference(one, full.slice(i * per, (i + 1) * per)), `image ${i}`).toBe(-1);
      xi.dispose();
    }
  });

  it('weights written through the library invalidate the prepared copies', () => {
    const before = forward(net, x);
    const w = net.stateDict()['layer1.0.conv2.weight'];
    const d = w.data;
    for (let i = 0; i < d.length; i++) d[i] *= 0.5;
    w.version++;
    const after = forward(net, x);
    expect(relErr(after, exact(net, x))).toBeLessThan(1e-4);
    expect(relErr(after, before)).toBeGreaterThan(1e-3);
    for (let i = 0; i < d.length; i++) d[i] *= 2;
    w.version++;
  });

  it('AlexNet and LeNet-5 (conv+ReLU and linear+ReLU fused, no batch norm) match the exact path', () => {
    manualSeed(32);
    for (const [m, shape] of [[models.alexnet({ numClasses: 10 }), [1, 3, 224, 224]], [models.lenet5(), [3, 1, 28, 28]]] as const) {
      m.eval();
      const xi = randn([...shape], { seed: 9 });
      const r = exact(m, xi);
      let got = new Float32Array(0);
      const calls = countCalls(() => { got = forward(m, xi); });
      expect(calls.conv2d + calls.unary, JSON.stringify(calls)).toBe(0);
      expect(relErr(got, r)).toBeLessThan(1e-5);
      xi.dispose();
      m.dispose();
    }
  });

  it('dispose frees every prepared copy', () => {
    const m = models.resnet18({ numClasses: 10 });
    m.eval();
    const xi = randn([1, 3, 64, 64], { seed: 2 });
    const start = memory().bytes;
    forward(m, xi);
    expect(memory().bytes).toBeGreaterThan(start);
    m.dispose();
    xi.dispose();
    expect(memory().bytes).toBeLessThan(start);
  });
  it('a replaced layer is seen: the next forward lowers the new tree', () => {
    manualSeed(33);
    const m = models.resnet18({ numClasses: 10 });
    randomizeBatchNorms(m, 300);
    m.eval();
    const xi = randn([1, 3, 64, 64], { seed: 4 });
    expect(forward(m, xi).length).toBe(10);
    const old = m.fc;
    m.fc = new nn.Linear(512, 7);
    const got = forward(m, xi);
    expect(got.length).toBe(7);
    expect(relErr(got, exact(m, xi))).toBeLessThan(1e-4);
    old.dispose();
    xi.dispose();
    m.dispose();
  });

  it('grouped convolutions (ResNeXt/RegNet blocks) run packed per group, residual and ReLU fused, batch invariant', () => {
    manualSeed(35);
    // Two bottlenecks: 1x1 -> grouped 3x3 (stride 1: 8 groups of 4; stride 2: 4 groups of 16) ->
    // batch norm, the residual add (+ReLU) fused into the grouped convolution's epilogue, and a
    // depthwise layer, which keeps conv2d's depthwise kernel.
    const block = (c: number, groups: number, stride: number) => new nn.Sequential(
      new nn.Residual(
        new nn.Sequential(new nn.Conv2d(c, c, 1, { bias: false }), new nn.BatchNorm2d(c), new nn.ReLU(),
          new nn.Conv2d(c, c, 3, { padding: 1, stride, groups, bias: false }), new nn.BatchNorm2d(c)),
        stride === 1 ? null : new nn.Sequential(new nn.Conv2d(c, c, 1, { stride, bias: false }), new nn.BatchNorm2d(c))),
      new nn.ReLU());
    const seq = new nn.Sequential(block(32, 8, 1), block(32, 2, 2), new nn.Conv2d(32, 32, 3, { padding: 1, groups: 32 }), new nn.ReLU());
    randomizeBatchNorms(seq, 500);
    for (const [k, t] of Object.entries(seq.stateDict())) {
      if (!/running_mean|running_var|\.weight$|\.bias$/.test(k) || t.rank !== 1) continue;
      const u = noGrad(() => rand(t.shape, { seed: 11 }));
      t.data.set(u.data.map((v) => (k.endsWith('running_var') || k.endsWith('weight') ? 0.5 + v : v - 0.5)));
      t.version++;
      u.dispose();
    }
    seq.eval();
    const xi = randn([3, 32, 15, 15], { seed: 12 });
    const ref = exact(seq, xi);
    let got = new Float32Array(0);
    const calls = countCalls(() => { got = forward(seq, xi); });
    // Six convolutions packed (the grouped ones included), the depthwise one exact; no batch norm,
    // no separate add or ReLU.
    expect(calls.conv2dPacked, JSON.stringify(calls)).toBe(5);
    expect(calls.conv2d, JSON.stringify(calls)).toBe(1);
    expect(calls.batchNorm2d + calls.binary + calls.unary, JSON.stringify(calls)).toBe(0);
    expect(relErr(got, ref)).toBeLessThan(1e-5);
    const per = got.length / 3;
    for (let i = 0; i < 3; i++) {
      const one = tidy(() => Tensor.from(xi.data.subarray(i * 32 * 225, (i + 1) * 32 * 225), [1, 32, 15, 15]));
      expect(firstBitDifference(forward(seq, one), got.slice(i * per, (i + 1) * per)), `image ${i}`).toBe(-1);
      one.dispose();
    }
    xi.dispose();
    seq.dispose();
  });

  it('a layer the front end cannot lower splits a Sequential into planned runs around it', () => {
    manualSeed(34);
    // A user-defined module (no lowering): the runs before and after it are still planned, batch
    // norm folded into the first convolution.
    class Squash extends nn.Module {
      forward(x: Tensor): Tensor { return ops.sigmoid(x); }
    }
    const bn = new nn.BatchNorm2d(8);
    const seq = new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1 }), bn, new nn.ReLU(), new Squash(),
      new nn.Conv2d(8, 4, 3, { padding: 1 }), new nn.ReLU());
    randomizeBatchNorms(seq, 400);
    for (const t of [bn.runningMean, bn.runningVar, bn.weight!, bn.bias!]) {
      const u = noGrad(() => rand(t.shape, { seed: 7 }));
      t.data.set(u.data.map((v) => (t === bn.runningVar || t === bn.weight ? 0.5 + v : v - 0.5)));
      t.version++;
      u.dispose();
    }
    seq.eval();
    const xi = randn([2, 3, 12, 12], { seed: 8 });
    const ref = exact(seq, xi);
    let got = new Float32Array(0);
    const calls = countCalls(() => { got = forward(seq, xi); });
    expect(calls.batchNorm2d, 'batch norm folded into the convolution').toBe(0);
    expect(calls.conv2dPacked + calls.conv2dWinograd, JSON.stringify(calls)).toBe(2);
    expect(calls.unary, 'ReLUs in the epilogues: only the custom layer\'s sigmoid is a unary op').toBe(1);
    expect(relErr(got, ref)).toBeLessThan(1e-5);
    // The same result again from the kept plans.
    expect(firstBitDifference(forward(seq, xi), got)).toBe(-1);
    xi.dispose();
    seq.dispose();
  });
});

/**
 * compileTrainStep / fit's compiled steps: the eager step recorded once and replayed by one native
 * call per step. The parameters, losses, gradients and batch-norm statistics after any number of
 * steps must be the eager loop's, bit for bit (same kernels in the same order); what cannot be
 * recorded must stay eager and say why; bad input must fail clearly; memory must be accounted.
 */
import { describe, expect, it } from 'vitest';
import {
  models, nn, optim, ops, randn, tidy, memory, setBackend, manualSeed, compileTrainStep, fit, Tensor, setNumThreads,
} from '../lib/index';
import type { Optimizer } from '../lib/optim/optimizer';

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function batches(n: number, shape: number[], classes = 10): [Tensor, Int32Array][] {
  const out: [Tensor, Int32Array][] = [];
  for (let i = 0; i < n; i++) {
    out.push([randn(shape, { seed: 100 + i }), Int32Array.from({ length: shape[0] }, (_, j) => (i * 7 + j * 3) % classes)]);
  }
  return out;
}

function eagerStep(model: nn.Module, opt: Optimizer, x: Tensor, y: Int32Array): number {
  return tidy(() => {
    opt.zeroGrad();
    const loss = ops.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.item();
  });
}

/** Every parameter and buffer (running statistics) of a and b, bit for bit. */
function expectSameState(a: nn.Module, b: nn.Module): void {
  const pa = [...a.parameters(), ...a.buffers()], pb = [...b.parameters(), ...b.buffers()];
  expect(pa.length).toBe(pb.length);
  pa.forEach((p, i) => expect(sameBits(p.data, pb[i].data), `tensor ${i} of shape [${p.shape}]`).toBe(true));
}

describe('compileTrainStep', () => {
  setBackend('native');

  const cases: [string, () => nn.Module, number[], (m: nn.Module) => Optimizer][] = [
    ['LeNet-5 with SGD (momentum, Nesterov, weight decay)', () => models.lenet5({ inputSize: 28 }), [8, 1, 28, 28],
      (m) => new optim.SGD(m.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 })],
    ['LeNet-5 with Adam', () => models.lenet5({ inputSize: 28 }), [8, 1, 28, 28],
      (m) => new optim.Adam(m.parameters(), { lr: 1e-3, weightDecay: 1e-4 })],
    ['ResNet-18 (batch norm, residual adds, global pooling) with SGD', () => models.resnet18({ numClasses: 10 }), [2, 3, 32, 32],
      (m) => new optim.SGD(m.parameters(), { lr: 0.01, momentum: 0.9, dampening: 0.1 })],
  ];
  for (const [name, build, shape, makeOpt] of cases) {
    it(`${name}: losses, parameters and running statistics bit-identical to the eager loop`, () => {
      manualSeed(7);
      const a = build().train();
      manualSeed(7);
      const b = build().train();
      const oa = makeOpt(a), ob = makeOpt(b);
      const data = batches(5, shape);
      const step = compileTrainStep(b, { optimizer: ob, inputShape: shape });
      for (const [i, [x, y]] of data.entries()) {
        if (i === 3) { (oa as { lr: number }).lr /= 2; (ob as { lr: number }).lr /= 2; }  // a schedule: read at each replay
        const la = eagerStep(a, oa, x, y);
        const lb = step.run(x, y);
        expect(Number.isFinite(la)).toBe(true);
        expect(lb).toBe(la);
        expect(step.compiled).toBe(i >= 1);
      }
      expect(step.whyEager).toBeNull();
      expectSameState(a, b);
      // Gradients are readable between steps: the last step's, as the eager loop left them.
      a.parameters().forEach((p, i) => expect(sameBits(p.grad!.data, b.parameters()[i].grad!.data)).toBe(true));
      // The parameters moved: the test is not comparing two untouched models.
      manualSeed(7);
      const fresh = build();
      expect(sameBits(fresh.parameters()[0].data, b.parameters()[0].data)).toBe(false);
      step.dispose();
      data.forEach(([x]) => x.dispose());
      a.dispose(); b.dispose(); fresh.dispose();
    }, 60_000);
  }

  it('the logits of the last step are the forward of that step', () => {
    manualSeed(1);
    const net = models.lenet5({ inputSize: 28 }).train();
    const ref = models.lenet5({ inputSize: 28 }).train();
    ref.loadStateDict(net.stateDict());
    const opt = new optim.SGD(net.parameters(), { lr: 0.01 });
    const step = compileTrainStep(net, { optimizer: opt, inputShape: [4, 1, 28, 28] });
    const data = batches(3, [4, 1, 28, 28]);
    const refOpt = new optim.SGD(ref.parameters(), { lr: 0.01 });
    for (const [x, y] of data) {
      const logits = tidy(() => ref.forward(x).toArray());
      eagerStep(ref, refOpt, x, y);
      step.run(x, y);
      expect(sameBits(step.lastLogits(), logits)).toBe(true);
    }
    step.dispose();
  });

  it('results do not depend on the thread count', () => {
    const run = (threads: number) => {
      setNumThreads(threads);
      manualSeed(5);
      const net = models.lenet5({ inputSize: 28 }).train();
      const step = compileTrainStep(net, { optimizer: new optim.SGD(net.parameters(), { lr: 0.05, momentum: 0.9 }), inputShape: [16, 1, 28, 28] });
      for (const [x, y] of batches(4, [16, 1, 28, 28])) step.run(x, y);
      step.dispose();
      return net.parameters().map((p) => p.data.slice());
    };
    const one = run(1), two = run(2);
    setNumThreads(1);
    one.forEach((p, i) => expect(sameBits(p, two[i])).toBe(true));
  });

  it('a model with dropout stays eager, says why, and still trains like the eager loop', () => {
    const build = () => new nn.Sequential(new nn.Flatten(), new nn.Linear(16, 12), new nn.ReLU(), new nn.Dropout(0.5), new nn.Linear(12, 3));
    manualSeed(2);
    const a = build().train();
    manualSeed(2);
    const b = build().train();
    const oa = new optim.SGD(a.parameters(), { lr: 0.1 }), ob = new optim.SGD(b.parameters(), { lr: 0.1 });
    const data = batches(3, [5, 1, 4, 4], 3);
    manualSeed(9);
    const la = data.map(([x, y]) => eagerStep(a, oa, x, y));
    manualSeed(9);
    const step = compileTrainStep(b, { optimizer: ob, inputShape: [5, 1, 4, 4] });
    const lb = data.map(([x, y]) => step.run(x, y));
    expect(step.compiled).toBe(false);
    expect(step.whyEager).toMatch(/dropout/);
    expect(lb).toEqual(la);
    expectSameState(a, b);
  });

  it('batch norm with momentum null (a cumulative average) stays eager, says why, and matches the eager loop', () => {
    const build = () => new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.BatchNorm2d(4, { momentum: null }), new nn.ReLU(),
      new nn.Flatten(), new nn.Linear(4 * 4 * 4, 3));
    manualSeed(3);
    const a = build().train();
    manualSeed(3);
    const b = build().train();
    const oa = new optim.SGD(a.parameters(), { lr: 0.1 }), ob = new optim.SGD(b.parameters(), { lr: 0.1 });
    const data = batches(4, [3, 1, 6, 6], 3);
    const step = compileTrainStep(b, { optimizer: ob, inputShape: [3, 1, 6, 6] });
    for (const [x, y] of data) expect(step.run(x, y)).toBe(eagerStep(a, oa, x, y));
    expect(step.compiled).toBe(false);
    expect(step.whyEager).toMatch(/momentum null/);
    expectSameState(a, b);
    expect(b.buffers().some((t) => t.size === 1 && t.data[0] === 4)).toBe(true);  // num_batches_tracked
  });

  it('bad input is a clear error and the step lives on', () => {
    const net = models.lenet5({ inputSize: 28 }).train();
    const opt = new optim.SGD(net.parameters(), { lr: 0.01 });
    expect(() => compileTrainStep(net, { optimizer: opt, inputShape: [0, 1, 28, 28] })).toThrow(RangeError);
    expect(() => compileTrainStep(net, { optimizer: {} as Optimizer, inputShape: [2, 1, 28, 28] })).toThrow(/optim.SGD or optim.Adam/);
    // A replaced step() would be skipped by replays: such a step stays eager and the wrapper runs.
    const wrapped = new optim.SGD(net.parameters(), { lr: 0.01 });
    let calls = 0;
    const inner = wrapped.step.bind(wrapped);
    wrapped.step = () => { calls++; inner(); };
    const ws = compileTrainStep(net, { optimizer: wrapped, inputShape: [2, 1, 28, 28] });
    const [[wx, wy]] = batches(1, [2, 1, 28, 28]);
    for (let i = 0; i < 3; i++) ws.run(wx, wy);
    expect(calls).toBe(3);
    expect(ws.compiled).toBe(false);
    expect(ws.whyEager).toMatch(/step\(\) is overridden/);
    const step = compileTrainStep(net, { optimizer: opt, inputShape: [2, 1, 28, 28] });
    const [[x, y]] = batches(1, [2, 1, 28, 28]);
    for (let i = 0; i < 3; i++) step.run(x, y);
    expect(step.compiled).toBe(true);
    expect(() => step.run(randn([3, 1, 28, 28]), y)).toThrow(/x has shape \[3,1,28,28\], the step was compiled for \[2,1,28,28\]/);
    expect(() => step.run(x, new Int32Array([1]))).toThrow(/'y' has 1 labels, the batch has 2 samples/);
    expect(() => step.run(x, new Int32Array([1, 10]))).toThrow(/target 10 at index 1 is out of range for 10 classes/);
    expect(() => step.run(x, new Int32Array([-1, 0]))).toThrow(RangeError);
    expect(() => step.run(x, [1, 2] as unknown as Int32Array)).toThrow(TypeError);
    net.eval();
    expect(() => step.run(x, y)).toThrow(/eval mode; call model.train\(\) first/);
    net.train();
    expect(Number.isFinite(step.run(x, y))).toBe(true);
    step.dispose();
    expect(() => step.run(x, y)).toThrow(/disposed/);
  });

  it('zeroGrad between steps and new parameter arrays are handled (gradients reattached, the step recorded again)', () => {
    manualSeed(4);
    const a = models.lenet5({ inputSize: 28 }).train();
    manualSeed(4);
    const b = models.lenet5({ inputSize: 28 }).train();
    const oa = new optim.SGD(a.parameters(), { lr: 0.02, momentum: 0.9 }), ob = new optim.SGD(b.parameters(), { lr: 0.02, momentum: 0.9 });
    const step = compileTrainStep(b, { optimizer: ob, inputShape: [4, 1, 28, 28] });
    const data = batches(4, [4, 1, 28, 28]);
    for (const [i, [x, y]] of data.entries()) {
      if (i === 2) ob.zeroGrad();
      expect(step.run(x, y)).toBe(eagerStep(a, oa, x, y));
    }
    expect(b.parameters().every((p) => p.grad !== null)).toBe(true);
    expectSameState(a, b);
    step.dispose();
  });

  it('memory: replays allocate nothing; dispose returns memory() to where it was', () => {
    manualSeed(6);
    const net = models.lenet5({ inputSize: 28 }).train();
    const opt = new optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
    const data = batches(2, [8, 1, 28, 28]);
    eagerStep(net, opt, data[0][0], data[0][1]);  // the optimiser state exists before the baseline
    opt.zeroGrad();
    const before = memory();
    const step = compileTrainStep(net, { optimizer: opt, inputShape: [8, 1, 28, 28] });
    for (let i = 0; i < 3; i++) step.run(data[i % 2][0], data[i % 2][1]);
    const warm = memory();
    expect(warm.bytes).toBeGreaterThan(before.bytes);  // the recording's arrays are counted
    for (let i = 0; i < 50; i++) step.run(data[i % 2][0], data[i % 2][1]);
    const after = memory();
    expect(after.tensors).toBe(warm.tensors);
    expect(after.bytes).toBe(warm.bytes);
    step.dispose();
    opt.zeroGrad();
    const end = memory();
    expect(end.tensors).toBe(before.tensors);
    expect(end.bytes).toBe(before.bytes);
  });
});

describe('fit with compiled steps', () => {
  it('gives the eager fit\'s history and parameters bit for bit (last batch shorter: eager)', () => {
    const data = { x: randn([70, 1, 28, 28], { seed: 11 }), y: Int32Array.from({ length: 70 }, (_, i) => (i * 3) % 10) };
    const run = (compile: boolean) => {
      manualSeed(8);
      const net = models.lenet5({ inputSize: 28 });
      const optimizer = new optim.SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
      manualSeed(12);
      const history = fit(net, data, { epochs: 2, batchSize: 16, optimizer, compile, progress: false });
      return { net, history };
    };
    const eager = run(false), compiled = run(true);
    expect(compiled.history.map((h) => [h.loss, h.accuracy])).toEqual(eager.history.map((h) => [h.loss, h.accuracy]));
    expectSameState(eager.net, compiled.net);
  });
});

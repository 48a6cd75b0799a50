/**
 * Module.compile: the planned forward recorded once and replayed by one native call per forward.
 * Its results must be the eager eval()+noGrad forward's, bit for bit, and stay so when weights,
 * modes or options change (the recording is rebuilt); bad use must fail clearly; memory must be
 * accounted and returned.
 */
import { describe, expect, it } from 'vitest';
import {
  models, nn, noGrad, randn, tidy, memory, setBackend, ops, manualSeed, optim, Tensor, tensor,
} from '../lib/index';

function eager(model: nn.Module, x: Tensor): Float32Array {
  return noGrad(() => tidy(() => model.call(x).toArray()));
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function compiledOut(c: nn.CompiledModule, x: Tensor): Float32Array {
  return tidy(() => c.call(x).toArray());
}

describe('Module.compile', () => {
  setBackend('native');

  it('LeNet-5: bit-identical to the eager planned forward, for several inputs and batch sizes', () => {
    manualSeed(3);
    const net = models.lenet5().eval();
    for (const batch of [1, 3]) {
      const c = net.compile([batch, 1, 28, 28]);
      expect(c).toBeInstanceOf(nn.CompiledModule);
      for (const seed of [1, 2, 3]) {
        const x = randn([batch, 1, 28, 28], { seed });
        const ref = eager(net, x);
        expect(ref.some((v) => v !== 0)).toBe(true);
        expect(sameBits(compiledOut(c, x), ref)).toBe(true);
        x.dispose();
      }
      c.dispose();
    }
    net.dispose();
  });

  it('ResNet-18 (Winograd, packed and fused residual layers): bit-identical, and batch norm statistics are seen', () => {
    manualSeed(5);
    const net = models.resnet18({ numClasses: 10 });
    // Non-trivial batch-norm statistics so that the folding matters.
    for (const b of net.buffers()) if (b.size > 1) { b.data.set(randn([b.size], { seed: b.size }).data.map((v) => 0.5 + Math.abs(v))); b.version++; }
    net.eval();
    const x = randn([1, 3, 64, 64], { seed: 9 });
    const c = net.compile([1, 3, 64, 64]);
    expect(sameBits(compiledOut(c, x), eager(net, x))).toBe(true);
    c.dispose();
    x.dispose();
    net.dispose();
  });

  it('follows weight updates (an optimiser step, loadStateDict) by recording again', () => {
    manualSeed(8);
    const net = models.lenet5();
    const x = randn([2, 1, 28, 28], { seed: 4 });
    net.eval();
    const c = net.compile([2, 1, 28, 28]);
    const before = compiledOut(c, x);
    // One SGD step in training mode, then back to eval.
    net.train();
    const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
    const loss = ops.crossEntropy(net.call(x), new Int32Array([3, 7]));
    loss.backward();
    opt.step();
    opt.zeroGrad();
    loss.dispose();
    net.eval();
    const after = compiledOut(c, x);
    expect(sameBits(after, before)).toBe(false);
    expect(sameBits(after, eager(net, x))).toBe(true);
    // loadStateDict with other weights.
    manualSeed(99);
    const other = models.lenet5();
    net.loadStateDict(other.stateDict());
    expect(sameBits(compiledOut(c, x), eager(other.eval(), x))).toBe(true);
    other.dispose();
    c.dispose();
    x.dispose();
    net.dispose();
  });

  it('follows setFastInference and refuses training mode', () => {
    manualSeed(12);
    const net = models.resnet18({ numClasses: 5 }).eval();
    const x = randn([1, 3, 32, 32], { seed: 2 });
    const c = net.compile([1, 3, 32, 32]);
    net.setFastInference(true, { winograd: false });
    expect(sameBits(compiledOut(c, x), eager(net, x))).toBe(true);
    net.setFastInference(false);
    expect(sameBits(compiledOut(c, x), eager(net, x))).toBe(true);
    net.setFastInference(true);
    net.train();
    expect(() => c.call(x)).toThrow(/training mode; call eval\(\) first/);
    net.eval();
    expect(sameBits(compiledOut(c, x), eager(net, x))).toBe(true);
    c.dispose();
    x.dispose();
    net.dispose();
  });

  it('rejects bad input with clear errors, and the compiled module lives on', () => {
    const net = models.lenet5().eval();
    const c = net.compile([1, 1, 28, 28]);
    const x = randn([1, 1, 28, 28], { seed: 1 });
    expect(() => c.call(randn([2, 1, 28, 28], { seed: 1 }))).toThrow(RangeError);
    expect(() => c.call(randn([2, 1, 28, 28], { seed: 1 }))).toThrow(/compiled for \[1,1,28,28\]/);
    expect(() => c.call(new Float32Array(784) as unknown as Tensor)).toThrow(TypeError);
    const gone = randn([1, 1, 28, 28], { seed: 2 });
    gone.dispose();
    expect(() => c.call(gone)).toThrow(/disposed/);
    expect(() => net.compile([1, 0, 28, 28])).toThrow(RangeError);
    expect(() => net.compile('x' as unknown as number[])).toThrow(RangeError);
    expect(() => net.compile([1, 2, 28, 28])).toThrow(/conv2d/);  // the forward's own shape error
    expect(sameBits(compiledOut(c, x), eager(net, x))).toBe(true);
    c.dispose();
    expect(c.disposed).toBe(true);
    expect(() => c.call(x)).toThrow(/disposed/);
    c.dispose();  // idempotent
    x.dispose();
    net.dispose();
  });

  it('a forward that reads values on the JS thread cannot be recorded: a clear Error', () => {
    class Peeks extends nn.Module {
      forward(x: Tensor): Tensor {
        const s = ops.sum(x).item();  // reads a value mid-forward
        return ops.mul(x, tensor([s], [1, 1, 1, 1]));
      }
    }
    const m = new Peeks().eval();
    expect(() => m.compile([1, 1, 2, 2])).toThrow(/compile: the forward cannot be recorded/);
    // Nothing is left half-open: eager calls and other compiles still work.
    const net = models.lenet5().eval();
    const c = net.compile([1, 1, 28, 28]);
    const x = randn([1, 1, 28, 28], { seed: 6 });
    expect(sameBits(compiledOut(c, x), eager(net, x))).toBe(true);
    c.dispose();
    x.dispose();
    net.dispose();
  });

  it('its arrays never leave through the buffer pool: other ops running in between change nothing', () => {
    manualSeed(21);
    const net = models.lenet5().eval();
    const x = randn([1, 1, 28, 28], { seed: 5 });
    const ref = eager(net, x);
    const c = net.compile([1, 1, 28, 28]);
    // Eager ops allocate arrays of exactly the recorded intermediates' sizes (from the pool, where
    // the recording's freed intermediates would sit if they were not claimed); hold them alive
    // while the compiled module runs.
    const kept: Tensor[] = [];
    const conv1 = net.features.at(0);
    for (let i = 0; i < 5; i++) {
      const xi = randn([1, 1, 28, 28], { seed: 100 + i });
      kept.push(noGrad(() => net.features.call(xi)), noGrad(() => conv1.call(xi)), noGrad(() => net.call(xi)));
      xi.dispose();
    }
    expect(sameBits(compiledOut(c, x), ref)).toBe(true);
    const snapshot = kept.map((t) => t.toArray());
    compiledOut(c, randn([1, 1, 28, 28], { seed: 77 }));
    kept.forEach((t, i) => expect(sameBits(t.toArray(), snapshot[i])).toBe(true));
    kept.forEach((t) => t.dispose());
    c.dispose();
    x.dispose();
    net.dispose();
  });

  it('memory(): the recording is counted while it lives and returned by dispose; repeated calls stay flat', () => {
    const net = models.lenet5().eval();
    const x = randn([1, 1, 28, 28], { seed: 1 });
    eager(net, x);  // prepares the planned weights, so the compile adds only its own arrays
    const m0 = memory();
    const c = net.compile([1, 1, 28, 28]);
    const m1 = memory();
    expect(m1.bytes).toBeGreaterThan(m0.bytes);
    for (let i = 0; i < 200; i++) tidy(() => { c.call(x); });
    const m2 = memory();
    expect(m2.tensors).toBe(m1.tensors);
    expect(m2.bytes).toBe(m1.bytes);
    c.dispose();
    expect(memory().tensors).toBe(m0.tensors);
    expect(memory().bytes).toBe(m0.bytes);
    x.dispose();
    net.dispose();
  });

  it('forwardAsync: same bits, calls run in order, the input can be reused at once', async () => {
    manualSeed(31);
    const net = models.lenet5().eval();
    const c = net.compile([2, 1, 28, 28]);
    const xs = [1, 2, 3, 4].map((s) => randn([2, 1, 28, 28], { seed: s }));
    const refs = xs.map((x) => eager(net, x));
    const buf = randn([2, 1, 28, 28], { seed: 1 });
    const pending = xs.map((x) => {
      buf.data.set(x.data);
      return c.forwardAsync(buf);  // buf is overwritten by the next iteration before this runs
    });
    expect(() => c.call(xs[0])).toThrow(/still running/);
    const outs = await Promise.all(pending);
    outs.forEach((y, i) => expect(sameBits(y.toArray(), refs[i])).toBe(true));
    outs.forEach((y) => y.dispose());
    expect(sameBits(compiledOut(c, xs[0]), refs[0])).toBe(true);
    await expect(c.forwardAsync(randn([1, 1, 28, 28], { seed: 1 }))).rejects.toThrow(RangeError);
    c.dispose();
    await expect(c.forwardAsync(xs[0])).rejects.toThrow(/disposed/);
    xs.forEach((x) => x.dispose());
    buf.dispose();
    net.dispose();
  });

  it('forwardAsync: a weight change while a run is in flight rebuilds only after that run', async () => {
    manualSeed(41);
    const net = models.resnet18({ numClasses: 10 }).eval();
    const x = randn([1, 3, 32, 32], { seed: 3 });
    const before = eager(net, x);
    const c = net.compile([1, 3, 32, 32]);
    const a = c.forwardAsync(x);
    await Promise.resolve();
    await Promise.resolve();  // a's kernels are now running on the worker
    const w = net.parameters()[0];
    w.data[0] += 1;
    w.version++;
    const b = c.forwardAsync(x);
    const [ya, yb] = await Promise.all([a, b]);
    expect(sameBits(ya.toArray(), before)).toBe(true);
    expect(sameBits(yb.toArray(), eager(net, x))).toBe(true);
    ya.dispose();
    yb.dispose();
    c.dispose();
    x.dispose();
    net.dispose();
  });

  it('compiled for the js backend is refused (it runs native kernels)', () => {
    const net = models.lenet5().eval();
    setBackend('js');
    try {
      expect(() => net.compile([1, 1, 28, 28])).toThrow(/native backend/);
    } finally {
      setBackend('native');
    }
    net.dispose();
  });
});

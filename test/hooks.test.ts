/**
 * Module.registerForwardHook (lib/nn/hooks.ts): hooks see each layer's real input and output on the
 * eager forward and on the planned eval-mode forward (a hooked layer is not fused away), remove()
 * restores the fused plan, and compile() refuses a hooked tree. References: the ops run one by one
 * by hand (ops.conv2d, ops.relu, ...), and the same model with setFastInference(false).
 */
import { describe, expect, it } from 'vitest';
import { Tensor, models, nn, ops, noGrad, randn, manualSeed, keep, tidy } from '../lib/index';

function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / m;
}

function net(): nn.Sequential {
  manualSeed(7);
  return new nn.Sequential(
    new nn.Conv2d(2, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(4, 6, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(6 * 2 * 2, 3),
  );
}

/** The same forward computed op by op from the layers' weights. */
function byHand(s: nn.Sequential, x: Tensor): Tensor[] {
  const c1 = s.at(0) as nn.Conv2d, c2 = s.at(3) as nn.Conv2d, fc = s.at(6) as nn.Linear;
  return noGrad(() => {
    const a = ops.conv2d(x, c1.weight, c1.bias, { padding: 1 });
    const b = ops.relu(a);
    const c = ops.maxPool2d(b, { kernelSize: 2 });
    const d = ops.conv2d(c, c2.weight, c2.bias);
    const e = ops.relu(d);
    const f = ops.flatten(e, 1);
    const g = ops.linear(f, fc.weight, fc.bias);
    return [a, b, c, d, e, f, g];
  });
}

describe('registerForwardHook', () => {
  const x = randn([2, 2, 8, 8], { seed: 3 });

  it('eager forward (training mode, gradients on): every child reports its real input and output', () => {
    const s = net();
    const seen: { m: nn.Module; input: Tensor; output: Tensor }[] = [];
    const handles = s.children().map((c) => c.registerForwardHook((m, input, output) => { seen.push({ m, input, output }); }));
    const y = s.forward(x);
    const ref = byHand(s, x);
    expect(seen.map((e) => e.m)).toEqual(s.children());
    expect(seen[0].input).toBe(x);
    for (let i = 0; i < seen.length; i++) {
      expect(seen[i].output.shape).toEqual(ref[i].shape);
      expect(relErr(seen[i].output.data, ref[i].data)).toBeLessThan(1e-6);
      // What the hook saw is what the next layer read.
      if (i > 0) expect(seen[i].input).toBe(seen[i - 1].output);
    }
    expect(seen[seen.length - 1].output).toBe(y);
    for (const h of handles) h.remove();
  });

  it('planned eval forward: a hooked conv is not fused with its ReLU; the hook gets the pre-activation', () => {
    const s = net().eval();
    let conv: Tensor | null = null;
    const h = s.at(0).registerForwardHook((_m, _x, y) => { conv = y; });
    const y = noGrad(() => s.forward(x));
    const ref = byHand(s, x);
    expect(conv).not.toBeNull();
    const c = conv! as Tensor;
    expect(c.disposed).toBe(false);  // not freed as a spent intermediate by the planned Sequential
    expect(c.data.some((v) => v < 0)).toBe(true);
    // The hooked layer runs its own (exact) forward: bit for bit the op.
    expect(Array.from(c.data)).toEqual(Array.from(ref[0].data));
    expect(relErr(y.data, ref[6].data)).toBeLessThan(1e-4);
    h.remove();
  });

  it('planned and eager forwards report the same tensors, and the outputs agree with and without hooks', () => {
    const s = net().eval();
    const capture = (): Tensor[] => {
      const out: Tensor[] = [];
      const hs = s.children().map((c, i) => c.registerForwardHook((_m, _x, y) => { out[i] = y; }));
      const yy = noGrad(() => s.forward(x));
      out.push(yy);
      for (const hh of hs) hh.remove();
      return out;
    };
    const planned = capture();
    s.setFastInference(false);
    const eager = capture();
    s.setFastInference(true);
    expect(planned.length).toBe(8);
    for (let i = 0; i < planned.length; i++) {
      expect(planned[i].shape).toEqual(eager[i].shape);
      // Every layer hooked: each runs its own exact forward, so planned == eager bit for bit.
      expect(Array.from(planned[i].data)).toEqual(Array.from(eager[i].data));
    }
    const unhooked = noGrad(() => s.forward(x));
    expect(relErr(unhooked.data, eager[7].data)).toBeLessThan(1e-4);
  });

  it('remove() stops the calls, is idempotent, and the fused plan comes back', () => {
    const s = net().eval();
    const before = noGrad(() => s.forward(x));
    let calls = 0;
    const h = s.at(3).registerForwardHook(() => { calls++; });
    noGrad(() => s.forward(x));
    s.forward(x);
    expect(calls).toBe(2);
    h.remove();
    h.remove();
    const after = noGrad(() => s.forward(x));
    expect(calls).toBe(2);
    expect(Array.from(after.data)).toEqual(Array.from(before.data));
    expect(Object.prototype.hasOwnProperty.call(s.at(3), 'forward')).toBe(false);
  });

  it('hooks run in registration order; a returned Tensor replaces the output', () => {
    const s = net();
    const order: string[] = [];
    const h1 = s.at(1).registerForwardHook(() => { order.push('a'); });
    const h2 = s.at(1).registerForwardHook((_m, _x, y) => { order.push('b'); return ops.add(y, y); });
    let seenByThird: Tensor | null = null;
    const h3 = s.at(1).registerForwardHook((_m, _x, y) => { order.push('c'); seenByThird = y; });
    const ref = byHand(s, x);
    let pooledIn: Tensor | null = null;
    const h4 = s.at(2).registerForwardHook((_m, input) => { pooledIn = input; });
    noGrad(() => s.forward(x));
    expect(order).toEqual(['a', 'b', 'c']);
    expect(pooledIn).toBe(seenByThird);
    const doubled = ref[1].data.map((v) => 2 * v);
    expect(Array.from((pooledIn! as Tensor).data)).toEqual(Array.from(doubled));
    for (const h of [h1, h2, h3, h4]) h.remove();
  });

  it('a hook on the root runs from forward(), call() and predict()', () => {
    const s = net();
    let calls = 0;
    const h = s.registerForwardHook((m, _x, y) => { expect(m).toBe(s); expect(y.shape).toEqual([2, 3]); calls++; });
    s.forward(x);
    s.call(x);
    s.predict(x);
    expect(calls).toBe(3);
    h.remove();
  });

  it('LeNet-5 in eval mode: hooks on features.0 and features.3 get the maps the exact forward computes', () => {
    manualSeed(1);
    const m = models.lenet5().eval();
    const img = randn([1, 1, 28, 28], { seed: 5 });
    const maps: Record<string, Tensor> = {};
    const features = m.features;
    const hs = [0, 3].map((i) => features.at(i).registerForwardHook((_m, _x, y) => { maps[i] = keep(y); }));
    const logits = tidy(() => noGrad(() => m.forward(img)));
    for (const hh of hs) hh.remove();
    m.setFastInference(false);
    const exact: Record<string, Tensor> = {};
    const hs2 = [0, 3].map((i) => features.at(i).registerForwardHook((_m, _x, y) => { exact[i] = y; }));
    const exactLogits = noGrad(() => m.forward(img));
    for (const hh of hs2) hh.remove();
    expect(maps[0].shape).toEqual([1, 6, 28, 28]);
    expect(maps[3].shape).toEqual([1, 16, 10, 10]);
    expect(maps[0].disposed).toBe(false);
    expect(Array.from(maps[0].data)).toEqual(Array.from(exact[0].data));
    expect(relErr(maps[3].data, exact[3].data)).toBeLessThan(1e-4);
    expect(relErr(logits.data, exactLogits.data)).toBeLessThan(1e-4);
  });

  it('forwardAsync of a hooked model runs the hooks (on the JS thread) and returns the same output', async () => {
    const s = net().eval();
    let seen: Tensor | null = null;
    // forwardAsync frees the forward's intermediates (a tidy): what a hook stores must be kept.
    const h = s.at(4).registerForwardHook((_m, _x, y) => { seen = keep(y); });
    const y = await s.forwardAsync(x);
    const ref = byHand(s, x);
    expect(seen).not.toBeNull();
    expect(relErr((seen! as Tensor).data, ref[4].data)).toBeLessThan(1e-4);
    expect(relErr(y.data, ref[6].data)).toBeLessThan(1e-4);
    h.remove();
  });

  it('compile() refuses a hooked tree, and a compiled module refuses hooks added later', () => {
    const s = net().eval();
    const h = s.at(3).registerForwardHook(() => undefined);
    expect(() => s.compile([2, 2, 8, 8])).toThrow(/compile: module '3' \(Conv2d\) has forward hooks/);
    h.remove();
    const fast = s.compile([2, 2, 8, 8]);
    const y0 = fast.call(x);
    const h2 = s.at(0).registerForwardHook(() => undefined);
    expect(() => fast.call(x)).toThrow(/module '0' \(Conv2d\) has forward hooks/);
    h2.remove();
    expect(Array.from(fast.call(x).data)).toEqual(Array.from(y0.data));
    fast.dispose();
  });

  it('bad arguments and bad return values are TypeErrors naming the function', () => {
    const s = net();
    expect(() => s.registerForwardHook(42 as never)).toThrow(TypeError);
    expect(() => s.registerForwardHook(42 as never)).toThrow(/registerForwardHook: hook must be a function, got 42/);
    const h = s.at(0).registerForwardHook(() => 3 as never);
    expect(() => s.forward(x)).toThrow(/forward hook of Conv2d: must return undefined or a Tensor, got 3/);
    h.remove();
    expect(() => s.forward(x)).not.toThrow();
  });
});

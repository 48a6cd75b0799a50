/**
 * Autograd: (1) every reference backward kernel against float64 central differences; (2) the public
 * API's gradients on both backends against those float64 references and against each other, plus
 * tape semantics; (3) optimisers and fit().
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  Tensor, tensor, zeros, ops, nn, optim, fit, noGrad, manualSeed, setBackend, getBackend, memory, sum, concat, clone, detach,
} from '../lib/index';
import { allCases, dropoutCase, makeInputs, makeR, type GradCase } from './grad/cases';
import { centralDiff, dot, expectClose, maxAbs, rand, sampleIndices, uniform } from './grad/fd';

const EPS32 = 2 ** -23;
const BACKENDS = ['native', 'js'] as const;

afterEach(() => setBackend('native'));

function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

// ---- 1. reference kernels vs float64 finite differences ---------------------------------------

describe('reference backward kernels match float64 central differences', () => {
  const cases: GradCase[] = [...allCases, dropoutCase([3, 5, 4], 0.4, 7), dropoutCase([1, 13], 0.5, 8)];
  for (const c of cases) {
    it(c.name, () => {
      const seed = seedOf(c.name);
      const ins = makeInputs(c, seed).map((a) => Float64Array.from(a));
      const R = Float64Array.from(makeR(c, seed));
      const out = c.forward(ins);
      expect(out.length).toBe(Math.max(1, c.outShape.reduce((a, b) => a * b, 1)));
      const grads = c.backward(ins, out, R);
      const L = () => dot(c.forward(ins), R);
      const r = rand(seed + 1);
      c.inputs.forEach((spec, k) => {
        const g = grads[k];
        expect(g, `${c.name}: gradient of ${spec.name}`).toBeTruthy();
        expect(g!.length).toBe(ins[k].length);
        const which = sampleIndices(ins[k].length, 150, r);
        const fdMap = centralDiff(L, ins[k], which, 1e-6);
        const fd = new Float64Array(ins[k].length);
        for (const [i, v] of fdMap) fd[i] = v;
        const scale = Math.max(maxAbs(g!), 1e-3);
        expectClose(g!, fd, 1e-6 * scale, `${c.name}: d/d${spec.name}`, which);
      });
    });
  }
});

// ---- 2. public API on both backends ----------------------------------------------------------

interface ApiRun { out: Float32Array; grads: (Float32Array | null)[] }

/** Runs the op through the public API with requiresGrad inputs and L = sum(y * R); returns the grads. */
function apiGrads(c: GradCase, data: Float32Array[], R: Float32Array, be: 'native' | 'js'): ApiRun {
  setBackend(be);
  const ts = c.inputs.map((s, k) => {
    const t = Tensor.from(data[k], s.shape);
    t.requiresGrad = s.grad !== false;
    return t;
  });
  const y = c.api(ts);
  expect(y.shape).toEqual(c.outShape);
  expect(y.requiresGrad).toBe(true);
  const loss = sum(ops.mul(y, Tensor.from(R, c.outShape)));
  expect(loss.shape).toEqual([]);
  loss.backward();
  const run = { out: y.toArray(), grads: ts.map((t) => (t.grad ? t.grad.toArray() : null)) };
  ts.forEach((t) => { expect(t.grad?.shape ?? t.shape).toEqual(t.shape); t.grad?.dispose(); t.dispose(); });
  return run;
}

describe('public API gradients (native and js) match the float64 reference on the same float32 data', () => {
  for (const c of allCases) {
    it(c.name, () => {
      const seed = seedOf(c.name);
      const data = makeInputs(c, seed);
      const R = makeR(c, seed);
      const ins = data.map((a) => Float64Array.from(a));
      const R64 = Float64Array.from(R);
      const ref = c.backward(ins, c.forward(ins), R64);
      const terms = c.termScale ? c.termScale(ins, R64) : 0;
      const runs = BACKENDS.map((be) => apiGrads(c, data, R, be));
      c.inputs.forEach((spec, k) => {
        const scale = Math.max(maxAbs(ref[k]!), terms, 1e-3);
        const tol = 4 * EPS32 * Math.max(1, c.red) * scale;
        runs.forEach((run, b) => {
          expect(run.grads[k], `${c.name} [${BACKENDS[b]}]: ${spec.name}.grad`).not.toBeNull();
          expectClose(run.grads[k]!, ref[k]!, tol, `${c.name} [${BACKENDS[b]}]: ${spec.name}.grad vs float64 reference`);
        });
        expectClose(runs[0].grads[k]!, runs[1].grads[k]!, 2 * tol, `${c.name}: ${spec.name}.grad native vs js`);
      });
    });
  }

  it('dropout (training) routes the gradient through its mask, identically on both backends', () => {
    const p = 0.3;
    const x0 = uniform(0.5, 1.5)(3 * 4 * 5, rand(5));
    const R = uniform()(x0.length, rand(6));
    const results = BACKENDS.map((be) => {
      setBackend(be);
      manualSeed(1234);
      const x = Tensor.from(x0, [3, 4, 5]);
      x.requiresGrad = true;
      const y = ops.dropout(x, p, true);
      sum(ops.mul(y, Tensor.from(R, [3, 4, 5]))).backward();
      return { y: y.toArray(), g: x.grad!.toArray() };
    });
    for (const { y, g } of results) {
      let zerosN = 0;
      for (let i = 0; i < y.length; i++) {
        const m = y[i] / x0[i];
        const mask = m < 0.5 ? 0 : 1 / (1 - p);
        if (mask === 0) zerosN++;
        expect(Math.abs(m - mask)).toBeLessThan(1e-6);
        expect(Math.abs(g[i] - R[i] * mask)).toBeLessThanOrEqual(4 * EPS32 * Math.abs(R[i] * mask));
      }
      expect(zerosN).toBeGreaterThan(0);
      expect(zerosN).toBeLessThan(y.length);
    }
    expect(results[0].y).toEqual(results[1].y);
    expect(results[0].g).toEqual(results[1].g);
    // Outside training dropout is the identity, gradient included.
    const x = Tensor.from(x0, [3, 4, 5]);
    x.requiresGrad = true;
    sum(ops.mul(ops.dropout(x, p, false), Tensor.from(R, [3, 4, 5]))).backward();
    expect(x.grad!.toArray()).toEqual(R);
  });

  it('inputs without requiresGrad get no grad; the rest are unchanged', () => {
    for (const be of BACKENDS) {
      setBackend(be);
      const r = rand(3);
      const x = Tensor.from(uniform()(2 * 3 * 5 * 5, r), [2, 3, 5, 5]);
      const w = Tensor.from(uniform()(4 * 3 * 9, r), [4, 3, 3, 3]);
      const b = Tensor.from(uniform()(4, r), [4]);
      w.requiresGrad = true;
      const y = ops.conv2d(x, w, b, { padding: 1 });
      sum(y).backward();
      expect(x.grad).toBeNull();
      expect(b.grad).toBeNull();
      expect(w.grad!.shape).toEqual([4, 3, 3, 3]);
      // No input requires grad: nothing is recorded.
      const z = ops.relu(x);
      expect(z.requiresGrad).toBe(false);
      expect(() => sum(z).backward()).toThrow();
    }
  });
});

describe('tape semantics', () => {
  it('gradients accumulate across backward calls and within a graph (x used twice)', () => {
    for (const be of BACKENDS) {
      setBackend(be);
      const x = tensor([1, -2, 3, 0.5], [4]);
      x.requiresGrad = true;
      sum(ops.mul(x, x)).backward();
      expect(Array.from(x.grad!.toArray())).toEqual([2, -4, 6, 1]);
      sum(ops.mul(x, tensor([1, 1, 1, 1], [4]))).backward();
      expect(Array.from(x.grad!.toArray())).toEqual([3, -3, 7, 2]);
      // Two paths to the same leaf add inside one backward.
      const y = ops.add(ops.relu(x), ops.mul(x, tensor([2, 2, 2, 2], [4])));
      x.grad!.dispose();
      x.grad = null;
      sum(y).backward();
      expect(Array.from(x.grad!.toArray())).toEqual([3, 2, 3, 3]);
    }
  });

  it('noGrad records nothing', () => {
    const x = tensor([1, -2, 3], [3]);
    x.requiresGrad = true;
    const y = noGrad(() => sum(ops.mul(ops.relu(x), x)));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradNode).toBeNull();
    expect(() => y.backward()).toThrow(/requires? grad/i);
    expect(x.grad).toBeNull();
    expect(noGrad(() => 7)).toBe(7);
    // Recording resumes after noGrad, even if fn threw.
    expect(() => noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(ops.relu(x).requiresGrad).toBe(true);
  });

  it('backward without a grad needs a size-1 output; an explicit grad seeds it', () => {
    const x = tensor([1, 2, 3, 4], [2, 2]);
    x.requiresGrad = true;
    const y = ops.mul(x, x);
    expect(() => y.backward()).toThrow(RangeError);
    y.backward(tensor([1, 0, 0, 2], [2, 2]));
    expect(Array.from(x.grad!.toArray())).toEqual([2, 0, 0, 16]);
  });

  it('the tape is released after backward: a second backward through the same graph throws', () => {
    const x = tensor([1, 2, 3], [3]);
    x.requiresGrad = true;
    const h = ops.mul(x, x);
    const loss = sum(h);
    loss.backward();
    expect(h.gradNode).toBeNull();
    expect(loss.gradNode).toBeNull();
    const before = x.grad!.toArray();
    // PyTorch: "Trying to backward through the graph a second time". Silently doing nothing (or
    // storing a .grad on the non-leaf root) hides the mistake.
    expect(() => loss.backward()).toThrow();
    expect(x.grad!.toArray()).toEqual(before);
    expect(loss.grad).toBeNull();
  });

  it('reshape / flatten are views whose gradient flows back in the source layout', () => {
    const x = Tensor.from(Float32Array.from({ length: 24 }, (_, i) => i - 12), [2, 3, 4]);
    x.requiresGrad = true;
    const bytes = memory().bytes;
    const v = x.reshape([4, -1]);
    const f = ops.flatten(x);
    expect(memory().bytes).toBe(bytes);
    expect(v.shape).toEqual([4, 6]);
    expect(f.shape).toEqual([2, 12]);
    expect(v.requiresGrad && f.requiresGrad).toBe(true);
    const R1 = Float32Array.from({ length: 24 }, (_, i) => i);
    const R2 = Float32Array.from({ length: 24 }, (_, i) => 100 * ((i % 5) - 2));
    ops.add(sum(ops.mul(v, Tensor.from(R1, [4, 6]))), sum(ops.mul(f, Tensor.from(R2, [2, 12])))).backward();
    expect(x.grad!.shape).toEqual([2, 3, 4]);
    expect(Array.from(x.grad!.toArray())).toEqual(Array.from(R1, (r, i) => r + R2[i]));
  });

  it('concat splits the gradient back to its inputs (dims 0, 1, -1)', () => {
    for (const dim of [0, 1, -1]) {
      const a = Tensor.from(uniform()(2 * 3 * 2, rand(1)), [2, 3, 2]);
      const shapeB = [2, 3, 2];
      shapeB[dim < 0 ? 2 : dim] = dim === 0 ? 1 : 4;
      const b = Tensor.from(uniform()(shapeB.reduce((p, q) => p * q, 1), rand(2)), shapeB);
      a.requiresGrad = true;
      b.requiresGrad = true;
      const y = concat([a, b], dim);
      const R = uniform()(y.size, rand(3));
      sum(ops.mul(y, Tensor.from(R, y.shape))).backward();
      // d/da of sum(concat * R) is the slice of R where a sits: concat R's slices back.
      const Ra = a.grad!, Rb = b.grad!;
      expect(Ra.shape).toEqual(a.shape);
      expect(Rb.shape).toEqual(b.shape);
      expect(concat([Ra, Rb], dim).toArray()).toEqual(R);
    }
  });

  it('clone copies storage and passes the gradient; detach shares storage and stops it', () => {
    const x = tensor([1, 2, 3], [3]);
    x.requiresGrad = true;
    const bytes = memory().bytes;
    const c = clone(x);
    expect(memory().bytes).toBe(bytes + 12);
    expect(c.requiresGrad).toBe(true);
    const d = detach(x);
    expect(memory().bytes).toBe(bytes + 12);
    expect(d.requiresGrad).toBe(false);
    expect(d.gradNode).toBeNull();
    x.data[0] = 10;  // detach shares storage, clone does not
    expect(d.toArray()[0]).toBe(10);
    expect(c.toArray()[0]).toBe(1);
    x.data[0] = 1;
    const loss = ops.add(sum(ops.mul(c, tensor([5, 6, 7], [3]))), sum(ops.mul(d, tensor([100, 100, 100], [3]))));
    loss.backward();
    expect(Array.from(x.grad!.toArray())).toEqual([5, 6, 7]);
    expect(d.grad).toBeNull();
  });
});

describe('a 2-layer conv net: parameter gradients vs float32 finite differences', () => {
  for (const be of BACKENDS) {
    it(be, () => {
      setBackend(be);
      const r = rand(77);
      const x = Tensor.from(uniform()(2 * 2 * 7 * 6, r), [2, 2, 7, 6]);
      const w1 = Tensor.from(uniform(-0.4, 0.4)(3 * 2 * 9, r), [3, 2, 3, 3]);
      const b1 = Tensor.from(uniform(-0.2, 0.2)(3, r), [3]);
      const w2 = Tensor.from(uniform(-0.4, 0.4)(4 * 3 * 9, r), [4, 3, 3, 3]);
      const b2 = Tensor.from(uniform(-0.2, 0.2)(4, r), [4]);
      const params = [w1, b1, w2, b2];
      const forward = () => ops.conv2d(ops.tanh(ops.conv2d(x, w1, b1, { padding: 1 })), w2, b2, { stride: 2, padding: [0, 1, 1, 0] });
      const y0 = noGrad(forward);
      const R = uniform()(y0.size, r);
      const Rt = Tensor.from(R, y0.shape);
      for (const p of params) p.requiresGrad = true;
      sum(ops.mul(forward(), Rt)).backward();
      // Float32 forward, float64 objective; h balances truncation (h^2) against float32 rounding (eps/h).
      const L = () => dot(noGrad(forward).toArray(), R);
      const h = 1e-2;
      params.forEach((p, k) => {
        const g = p.grad!.toArray();
        const which = sampleIndices(p.size, 40, r);
        const fd = centralDiff(L, p.data, which, h);
        const ref = new Float64Array(p.size);
        for (const [i, v] of fd) ref[i] = v;
        expectClose(g, ref, 2e-3 * Math.max(maxAbs(g), 1e-2), `${be}: param ${k} grad vs float32 FD`, which);
      });
    });
  }
});

// ---- 3. optimisers and fit ---------------------------------------------------------------

/** A linearly separable 2-D, 3-class toy set. */
function toySet(n: number, seed: number): { x: Tensor; y: Int32Array } {
  const r = rand(seed);
  const centres = [[2, 0], [-1, 1.8], [-1, -1.8]];
  const xs = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    y[i] = k;
    xs[2 * i] = centres[k][0] + 0.4 * (r() - 0.5);
    xs[2 * i + 1] = centres[k][1] + 0.4 * (r() - 0.5);
  }
  return { x: Tensor.from(xs, [n, 2]), y };
}

describe('training', () => {
  for (const kind of ['SGD', 'Adam'] as const) {
    it(`a linear classifier on a separable toy set: ${kind} reduces the loss`, () => {
      manualSeed(11);
      const { x, y } = toySet(60, 5);
      const model = new nn.Linear(2, 3);
      const opt = kind === 'SGD' ? new optim.SGD(model.parameters(), { lr: 0.2, momentum: 0.5 }) : new optim.Adam(model.parameters(), { lr: 0.05 });
      const losses: number[] = [];
      for (let it = 0; it < 40; it++) {
        const loss = ops.crossEntropy(model.forward(x), y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
        losses.push(loss.item());
      }
      expect(losses[39]).toBeLessThan(0.25 * losses[0]);
      const pred = noGrad(() => ops.argmax(model.forward(x), 1)).toArray();
      expect(Array.from(pred).every((p, i) => p === y[i])).toBe(true);
    });
  }

  /** Two steps on p = [1, -2, 3] with loss = sum(c_t * p^2), so g_t = 2 c_t p (c_1, c_2 differ). */
  function twoSteps(make: (p: Tensor) => optim.Optimizer): Float32Array[] {
    const p = tensor([1, -2, 3], [3]);
    p.requiresGrad = true;
    const opt = make(p);
    const out: Float32Array[] = [];
    for (const c of [[1, 1, 1], [0.5, 2, -1]]) {
      opt.zeroGrad();
      sum(ops.mul(ops.mul(p, p), tensor(c, [3]))).backward();
      opt.step();
      out.push(p.toArray());
    }
    return out;
  }
  const C = [[1, 1, 1], [0.5, 2, -1]];

  /** torch.optim.SGD, written out: d = g + wd p; buf = d (first step) else mu buf + (1 - damp) d; d = nesterov ? d + mu buf : buf; p -= lr d. */
  function sgdByHand(lr: number, mu: number, wd: number, nesterov: boolean, damp = 0): number[][] {
    let p = [1, -2, 3];
    let buf: number[] = [];
    const out: number[][] = [];
    C.forEach((c, t) => {
      const g = p.map((v, i) => 2 * c[i] * v);
      let d = g.map((v, i) => v + wd * p[i]);
      if (mu !== 0) {
        buf = t === 0 ? d.slice() : buf.map((b, i) => mu * b + (1 - damp) * d[i]);
        d = nesterov ? d.map((v, i) => v + mu * buf[i]) : buf.slice();
      }
      p = p.map((v, i) => v - lr * d[i]);
      out.push(p);
    });
    return out;
  }

  /** torch.optim.Adam, written out: d = g + wd p; m = b1 m + (1-b1) d; v = b2 v + (1-b2) d^2; p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). */
  function adamByHand(lr: number, b1: number, b2: number, eps: number, wd: number): number[][] {
    let p = [1, -2, 3];
    let m = [0, 0, 0], v = [0, 0, 0];
    const out: number[][] = [];
    C.forEach((c, k) => {
      const t = k + 1;
      const d = p.map((pv, i) => 2 * c[i] * pv + wd * pv);
      m = m.map((mv, i) => b1 * mv + (1 - b1) * d[i]);
      v = v.map((vv, i) => b2 * vv + (1 - b2) * d[i] * d[i]);
      p = p.map((pv, i) => pv - lr * (m[i] / (1 - b1 ** t)) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps));
      out.push(p);
    });
    return out;
  }

  const near = (got: Float32Array[], want: number[][]) => got.forEach((g, s) => g.forEach((v, i) => {
    expect(Math.abs(v - want[s][i]), `step ${s + 1} element ${i}: got ${v}, want ${want[s][i]}`).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(want[s][i])));
  }));

  it('SGD matches the hand-computed PyTorch updates (plain, momentum, nesterov, weight decay, dampening)', () => {
    near(twoSteps((p) => new optim.SGD([p], { lr: 0.1 })), sgdByHand(0.1, 0, 0, false));
    near(twoSteps((p) => new optim.SGD([p], { lr: 0.1, momentum: 0.9 })), sgdByHand(0.1, 0.9, 0, false));
    near(twoSteps((p) => new optim.SGD([p], { lr: 0.05, momentum: 0.8, nesterov: true })), sgdByHand(0.05, 0.8, 0, true));
    near(twoSteps((p) => new optim.SGD([p], { lr: 0.1, weightDecay: 0.3 })), sgdByHand(0.1, 0, 0.3, false));
    near(twoSteps((p) => new optim.SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true })), sgdByHand(0.1, 0.9, 0.01, true));
    near(twoSteps((p) => new optim.SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.25 })), sgdByHand(0.1, 0.9, 0, false, 0.25));
  });

  it('Adam matches the hand-computed PyTorch updates (defaults, custom betas/eps, weight decay)', () => {
    near(twoSteps((p) => new optim.Adam([p], { lr: 0.01 })), adamByHand(0.01, 0.9, 0.999, 1e-8, 0));
    near(twoSteps((p) => new optim.Adam([p], { lr: 0.1, betas: [0.5, 0.9], eps: 1e-3 })), adamByHand(0.1, 0.5, 0.9, 1e-3, 0));
    near(twoSteps((p) => new optim.Adam([p], { lr: 0.05, weightDecay: 0.2 })), adamByHand(0.05, 0.9, 0.999, 1e-8, 0.2));
  });

  for (const kind of ['SGD', 'Adam'] as const) {
    it(`${kind} stateDict / loadStateDict resumes bit-identically`, () => {
      const { x, y } = toySet(30, 9);
      const make = (m: nn.Linear) => (kind === 'SGD'
        ? new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })
        : new optim.Adam(m.parameters(), { lr: 0.03, weightDecay: 1e-3 }));
      const stepOnce = (m: nn.Linear, o: optim.Optimizer) => {
        const loss = ops.crossEntropy(m.forward(x), y);
        o.zeroGrad();
        loss.backward();
        o.step();
      };
      manualSeed(3);
      const a = new nn.Linear(2, 3);
      const optA = make(a);
      for (let i = 0; i < 3; i++) stepOnce(a, optA);
      const params = a.stateDict();
      const snapshot: Record<string, Tensor> = {};
      for (const [k, v] of Object.entries(params)) snapshot[k] = clone(v);
      const state = optA.stateDict();
      expect(Object.keys(state).length).toBeGreaterThan(1);
      for (let i = 0; i < 2; i++) stepOnce(a, optA);
      manualSeed(999);
      const b = new nn.Linear(2, 3);
      b.loadStateDict(snapshot);
      const optB = make(b);
      optB.loadStateDict(state);
      for (let i = 0; i < 2; i++) stepOnce(b, optB);
      expect(b.weight.toArray()).toEqual(a.weight.toArray());
      expect(b.bias!.toArray()).toEqual(a.bias!.toArray());
      // Without the state the continuation differs (momentum / moments / step count matter).
      const c = new nn.Linear(2, 3);
      c.loadStateDict(snapshot);
      const optC = make(c);
      for (let i = 0; i < 2; i++) stepOnce(c, optC);
      expect(c.weight.toArray()).not.toEqual(a.weight.toArray());
    });
  }

  function fitModel(seed: number) {
    manualSeed(seed);
    return new nn.Sequential(new nn.Linear(2, 8), new nn.ReLU(), new nn.Linear(8, 3));
  }

  it('fit: ceil(N / batchSize) iterations per epoch, history entries, onEpoch, loss decreases', () => {
    const data = toySet(50, 21);
    for (const batchSize of [7, 50, 64, 1]) {
      const model = fitModel(1);
      const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
      let steps = 0;
      const step = opt.step.bind(opt);
      opt.step = () => { steps++; step(); };
      const seen: number[] = [];
      const epochs = batchSize === 1 ? 1 : 3;
      const history = fit(model, data, { epochs, batchSize, optimizer: opt, progress: false, onEpoch: (s) => seen.push(s.epoch) });
      expect(steps).toBe(epochs * Math.ceil(50 / batchSize));
      expect(seen).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
      expect(history).toHaveLength(epochs);
      history.forEach((h, i) => {
        expect(h.epoch).toBe(i + 1);
        expect(Number.isFinite(h.loss)).toBe(true);
        expect(h.accuracy).toBeGreaterThanOrEqual(0);
        expect(h.accuracy).toBeLessThanOrEqual(1);
        expect(h.seconds).toBeGreaterThanOrEqual(0);
        expect(h.valLoss).toBeUndefined();
      });
      if (batchSize === 7) expect(history[2].loss).toBeLessThan(history[0].loss);
    }
  });

  it('fit with validation reports valLoss / valAccuracy', () => {
    const model = fitModel(2);
    const history = fit(model, toySet(30, 1), { epochs: 2, batchSize: 8, validation: toySet(12, 2), progress: false,
      optimizer: new optim.Adam(model.parameters(), { lr: 0.05 }) });
    for (const h of history) {
      expect(Number.isFinite(h.valLoss)).toBe(true);
      expect(h.valAccuracy).toBeGreaterThanOrEqual(0);
    }
  });

  it('fit is reproducible under manualSeed (shuffle, init, dropout)', () => {
    const data = toySet(40, 8);
    const run = () => {
      manualSeed(42);
      const model = new nn.Sequential(new nn.Linear(2, 8), new nn.ReLU(), new nn.Dropout(0.3), new nn.Linear(8, 3));
      const h = fit(model, data, { epochs: 3, batchSize: 6, progress: false, optimizer: new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }) });
      return { h: h.map(({ epoch, loss, accuracy }) => ({ epoch, loss, accuracy })), w: (model.parameters()[0] as Tensor).toArray() };
    };
    const a = run(), b = run();
    expect(b.h).toEqual(a.h);
    expect(b.w).toEqual(a.w);
  });

  it('fit validates its arguments', () => {
    const data = toySet(9, 1);
    const model = fitModel(3);
    const ok = { epochs: 1, progress: false };
    expect(() => fit(model, data, { ...ok, epochs: 0 })).toThrow(RangeError);
    expect(() => fit(model, data, { ...ok, epochs: 1.5 })).toThrow(RangeError);
    expect(() => fit(model, data, { ...ok, batchSize: 0 })).toThrow(RangeError);
    expect(() => fit(model, data, { ...ok, batchSize: 2.5 })).toThrow(RangeError);
    expect(() => fit(model, data, null as never)).toThrow(TypeError);
    expect(() => fit(null as never, data, ok)).toThrow(TypeError);
    expect(() => fit(model, { x: data.x, y: [0, 1] as never }, ok)).toThrow(TypeError);
    expect(() => fit(model, { x: data.x, y: new Int32Array(3) }, ok)).toThrow(RangeError);
    expect(() => fit(model, { x: 'x' as never, y: data.y }, ok)).toThrow(TypeError);
    expect(() => fit(model, data, { ...ok, validation: { x: data.x, y: new Int32Array(2) } })).toThrow(RangeError);
    expect(() => fit(model, { x: zeros([9]), y: data.y }, ok)).toThrow(RangeError);
  });
});

it('leaves the native backend selected', () => {
  expect(getBackend()).toBe('native');
});

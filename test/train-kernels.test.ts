/**
 * The training-step kernels (lib/backend/types.ts: the BackwardKernels unaryBackward, channelSum,
 * binaryBackward, globalPool2dBackward, crossEntropyBackward; the Backend crossEntropyInto, fill,
 * copy, accumulate, runningStatsUpdate, sgdStep, adamStep): native against the pure-TS references
 * on awkward sizes, outputs prefilled with garbage (a kernel must overwrite them); the same bits at
 * 1 and 2 threads; SGD and Adam bit-exact against float32 references written here with
 * Math.fround at every operation, and close to lib/optim's optimisers; the addon's checks of every
 * argument; and capture: the kernels record into a plan, read their run-time values from arrays
 * on each replay, and the plan pins every array of sgdStep's lists through a gc.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { SGD, Adam } from '../lib/optim/index';
import { Tensor } from '../lib/tensor';
import { backend, getAddon, setBackend, setNumThreads, getNumThreads } from '../lib/backend/index';
import { gradKernels, jsBackward } from '../lib/backend/grad';
import { jsBackend } from '../lib/backend/js/index';
import type { BinaryKind, FArray, UnaryBackwardKind } from '../lib/backend/types';
import { packageRoot } from '../lib/backend/loader';
import { uniformF32 } from './reference/data';

setBackend('native');
const native = backend();
const grad = gradKernels();
const threads0 = getNumThreads();
afterAll(() => setNumThreads(threads0));

// The addon's functions by name, for the hostile calls (the Backend wrappers pass arguments through).
const addon = getAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;

const SIZES = [1, 7, 17, 1000, 4097];
const f32 = (n: number, seed: number, lo = -1, hi = 1) => uniformF32(n, seed, lo, hi);
const garbage = (n: number) => new Float32Array(n).fill(NaN);

/** Every element within rel * |ref| (+ abs) of the reference; the first miss reported. */
function expectClose(got: FArray, ref: FArray, rel: number, abs = 0): void {
  expect(got.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const ok = Number.isNaN(ref[i]) ? Number.isNaN(got[i]) : Math.abs(got[i] - ref[i]) <= rel * Math.abs(ref[i]) + abs;
    if (!ok) expect({ i, got: got[i] }).toEqual({ i, got: ref[i] });
  }
}
const sameBits = (a: Float32Array, b: Float32Array) =>
  expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);

describe('the native kernels are wired', () => {
  it('every training-step binding exists and gradKernels/backend use it', () => {
    for (const name of ['unaryBackward', 'channelSum', 'binaryBackward', 'globalPool2dBackward', 'crossEntropyBackward',
      'crossEntropyInto', 'fill', 'copy', 'accumulate', 'runningStatsUpdate', 'sgdStep', 'adamStep']) {
      expect(typeof addon[name], name).toBe('function');
    }
    expect(grad.unaryBackward).not.toBe(jsBackward.unaryBackward);
    expect(grad.channelSum).not.toBe(jsBackward.channelSum);
    expect(native.sgdStep).not.toBe(jsBackend.sgdStep);
  });
});

describe('unaryBackward', () => {
  const KINDS: UnaryBackwardKind[] = ['relu', 'leakyRelu', 'sigmoid', 'tanh', 'reluOut'];
  for (const kind of KINDS) {
    it(`${kind}: native matches the reference (1e-6), also in place (dx = dy)`, () => {
      for (const n of SIZES) {
        const x = f32(n, n), y = f32(n, n + 1, kind === 'sigmoid' ? 0 : -1, 1), dy = f32(n, n + 2);
        x[0] = 0;  // relu's gradient at 0 is 0
        y[0] = 0;
        const ref = new Float32Array(n);
        jsBackward.unaryBackward(kind, x, y, dy, 0.01, ref);
        const dx = garbage(n);
        grad.unaryBackward(kind, x, y, dy, 0.01, dx);
        expectClose(dx, ref, 1e-6);
        if (kind === 'relu' || kind === 'reluOut') expect(dx[0]).toBe(0);
        const inPlace = dy.slice();
        grad.unaryBackward(kind, x, y, inPlace, 0.01, inPlace);
        sameBits(inPlace, dx);
      }
    });
  }
  it('reluOut reads y, relu reads x', () => {
    const x = new Float32Array([1, -1, 1, -1]), y = new Float32Array([-1, 1, 1, -1]), dy = new Float32Array([2, 3, 4, 5]);
    const a = garbage(4), b = garbage(4);
    grad.unaryBackward('relu', x, y, dy, 0, a);
    grad.unaryBackward('reluOut', x, y, dy, 0, b);
    expect([...a]).toEqual([2, 0, 4, 0]);
    expect([...b]).toEqual([0, 3, 4, 0]);
  });
});

describe('channelSum', () => {
  for (const [N, C, inner] of [[3, 5, 1], [3, 5, 13], [3, 5, 784], [1, 1, 1], [2, 3, 4097]] as const) {
    it(`N=${N} C=${C} inner=${inner}: matches the float64 reference (1e-5)`, () => {
      // Mostly positive values: a sum without cancellation, so a relative tolerance means something.
      const dy = f32(N * C * inner, N * 100 + inner, -0.5, 1.5);
      const ref = new Float64Array(C), out = garbage(C);
      jsBackward.channelSum(dy, N, C, inner, ref);
      grad.channelSum(dy, N, C, inner, out);
      expectClose(out, ref, 1e-5);
    });
  }
  it('a cancelling sum is within 1e-6 of the sum of magnitudes', () => {
    const N = 4, C = 3, inner = 2000, dy = f32(N * C * inner, 9);
    const ref = new Float64Array(C), out = garbage(C);
    jsBackward.channelSum(dy, N, C, inner, ref);
    grad.channelSum(dy, N, C, inner, out);
    const mag = dy.reduce((s, v) => s + Math.abs(v), 0) / C;
    expectClose(out, ref, 0, 1e-6 * mag);
  });
});

describe('binaryBackward', () => {
  const KINDS: BinaryKind[] = ['add', 'sub', 'mul', 'div'];
  for (const kind of KINDS) {
    it(`${kind}, same shape: da and db match the reference (1e-6)`, () => {
      for (const n of SIZES) {
        const a = f32(n, 3 * n), b = f32(n, 3 * n + 1, 0.5, 2), dy = f32(n, 3 * n + 2);
        const ra = new Float32Array(n), rb = new Float32Array(n), da = garbage(n), db = garbage(n);
        jsBackward.binaryBackward(kind, a, b, dy, 1, 1, n, 'same', ra, rb);
        grad.binaryBackward(kind, a, b, dy, 1, 1, n, 'same', da, db);
        expectClose(da, ra, 1e-6);
        expectClose(db, rb, 1e-6);
        const onlyB = garbage(n);
        grad.binaryBackward(kind, a, b, dy, 1, 1, n, 'same', null, onlyB);
        sameBits(onlyB, db);
      }
    });
    for (const [N, C, inner] of [[3, 5, 1], [3, 5, 13], [3, 5, 784]] as const) {
      it(`${kind}, channel N=${N} C=${C} inner=${inner}: da (1e-6) and db (1e-5) match the reference`, () => {
        const n = N * C * inner;
        // a and dy mostly positive: db's sums do not cancel.
        const a = f32(n, n + 5, -0.5, 1.5), b = f32(C, 17, 0.5, 2), dy = f32(n, n + 6, -0.5, 1.5);
        const ra = new Float32Array(n), rb = new Float64Array(C), da = garbage(n), db = garbage(C);
        jsBackward.binaryBackward(kind, a, b, dy, N, C, inner, 'channel', ra, rb);
        grad.binaryBackward(kind, a, b, dy, N, C, inner, 'channel', da, db);
        expectClose(da, ra, 1e-6);
        expectClose(db, rb, 1e-5);
      });
    }
  }
});

describe('globalPool2dBackward', () => {
  for (const mode of ['max', 'avg'] as const) {
    it(`${mode}: matches the reference exactly, ties and NaN included`, () => {
      for (const HW of [1, 7, 49, 4097]) {
        const N = 3, C = 5, x = f32(N * C * HW, HW), dy = f32(N * C, HW + 1);
        if (HW >= 7) {
          x[HW + 2] = x[HW + 5] = 9;         // a tie: the first wins
          x[2 * HW + 1] = x[2 * HW + 4] = NaN;  // NaN beats numbers, the last NaN wins
        }
        const ref = new Float32Array(x.length), dx = garbage(x.length);
        jsBackward.globalPool2dBackward(x, dy, N, C, HW, mode, ref);
        grad.globalPool2dBackward(x, dy, N, C, HW, mode, dx);
        sameBits(dx, ref);
      }
    });
  }
});

describe('crossEntropyBackward and crossEntropyInto', () => {
  for (const [N, K] of [[1, 1], [3, 10], [64, 10], [7, 1000]] as const) {
    it(`N=${N} K=${K}: match the references, the upstream gradient read from gradOut[0]`, () => {
      const logits = f32(N * K, N * K, -4, 4);
      const targets = Int32Array.from({ length: N }, (_, n) => (n * 7 + 3) % K);
      const gradOut = new Float32Array([0.75]);
      const ref = new Float32Array(N * K), dl = garbage(N * K);
      jsBackward.crossEntropyBackwardFrom(logits, targets, N, K, gradOut, ref);
      grad.crossEntropyBackward(logits, targets, N, K, gradOut, dl);
      expectClose(dl, ref, 1e-6, 1e-12);
      const scaled = new Float32Array(N * K);
      jsBackward.crossEntropyBackward(logits, targets, N, K, 0.75, scaled);
      sameBits(ref, scaled);
      const loss = garbage(1), refLoss = new Float32Array(1);
      native.crossEntropyInto(logits, targets, N, K, loss);
      jsBackend.crossEntropyInto(logits, targets, N, K, refLoss);
      expectClose(loss, refLoss, 1e-6);
      expect(loss[0]).toBe(Math.fround(native.crossEntropy(logits, targets, N, K)));
    });
  }
});

describe('fill, copy, accumulate, runningStatsUpdate', () => {
  it('fill, copy and accumulate match the references exactly', () => {
    for (const n of SIZES) {
      const out = garbage(n);
      native.fill(out, -2.5);
      expect(out.every((v) => v === -2.5)).toBe(true);
      const src = f32(n, n), dst = garbage(n);
      native.copy(src, dst);
      sameBits(dst, src);
      const acc = f32(n, n + 1), refAcc = acc.slice();
      native.accumulate(acc, src);
      jsBackend.accumulate(refAcc, src);
      sameBits(acc, refAcc);
    }
  });
  it('runningStatsUpdate gives the bits of batchNorm2d\'s JS loop', () => {
    const C = 37, mean = f32(C, 1), variance = f32(C, 2, 0, 3);
    const rm = f32(C, 3), rv = f32(C, 4, 0, 2), refM = rm.slice(), refV = rv.slice();
    native.runningStatsUpdate(rm, rv, mean, variance, 0.1, 50 / 49);
    jsBackend.runningStatsUpdate(refM, refV, mean, variance, 0.1, 50 / 49);
    sameBits(rm, refM);
    sameBits(rv, refV);
  });
});

describe('thread count', () => {
  it('1 and 2 threads give the same bits for every kernel', () => {
    const run = () => {
      const n = 3 * 70000, N = 3, C = 5, inner = 14000;
      const x = f32(n, 1), y = f32(n, 2), dy = f32(n, 3), b = f32(C, 4, 0.5, 2);
      const out: Float32Array[] = [];
      const dx = new Float32Array(n);
      grad.unaryBackward('tanh', x, y, dy, 0, dx);
      out.push(dx);
      const sums = new Float32Array(C);
      grad.channelSum(dy.subarray(0, N * C * inner), N, C, inner, sums);
      out.push(sums);
      const da = new Float32Array(N * C * inner), db = new Float32Array(C);
      grad.binaryBackward('div', x.subarray(0, N * C * inner), b, dy.subarray(0, N * C * inner), N, C, inner, 'channel', da, db);
      out.push(da, db);
      const gx = new Float32Array(n);
      grad.globalPool2dBackward(x, dy.subarray(0, 15), 3, 5, n / 15, 'max', gx);
      out.push(gx);
      const w = x.slice(), buf = y.slice();
      native.sgdStep([w], [dy], [buf], new Float32Array([0.1, 0.9, 0, 1e-4, 1, 0]));
      out.push(w, buf);
      const w2 = x.slice(), m = y.slice(), v = new Float32Array(n).fill(0.01);
      native.adamStep([w2], [dy], [m], [v], new Float32Array([1e-3, 0.9, 0.999, 1e-8, 0, 0.19, 0.002]));
      out.push(w2, m, v);
      return out;
    };
    setNumThreads(1);
    const one = run();
    setNumThreads(2);
    const two = run();
    setNumThreads(threads0);
    one.forEach((a, i) => sameBits(a, two[i]));
  });
});

// float32 references: Math.fround after every operation.
const fr = Math.fround;
function sgdRef(w: Float32Array, g: Float32Array, buf: Float32Array | null, h: Float32Array): void {
  const [lr, mu, damp, wd, nesterov, first] = h;
  const keep = fr(1 - damp);
  for (let i = 0; i < w.length; i++) {
    let d = fr(g[i] + fr(wd * w[i]));
    if (buf) {
      buf[i] = first ? d : fr(fr(mu * buf[i]) + fr(keep * d));
      d = nesterov ? fr(d + fr(mu * buf[i])) : buf[i];
    }
    w[i] = fr(w[i] - fr(lr * d));
  }
}
function adamRef(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: Float32Array): void {
  const [lr, b1, b2, eps, wd, c1, c2] = h;
  const ob1 = fr(1 - b1), ob2 = fr(1 - b2);
  for (let i = 0; i < w.length; i++) {
    const d = fr(g[i] + fr(wd * w[i]));
    m[i] = fr(fr(b1 * m[i]) + fr(ob1 * d));
    v[i] = fr(fr(b2 * v[i]) + fr(fr(ob2 * d) * d));
    w[i] = fr(w[i] - fr(fr(lr * fr(m[i] / c1)) / fr(fr(Math.sqrt(fr(v[i] / c2))) + eps)));
  }
}

describe('sgdStep', () => {
  const CASES = [
    { name: 'plain', lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    { name: 'momentum + weight decay', lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 1e-4, nesterov: false },
    { name: 'nesterov', lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: true },
    { name: 'dampening', lr: 0.2, momentum: 0.5, dampening: 0.25, weightDecay: 0.01, nesterov: false },
  ];
  for (const c of CASES) {
    it(`${c.name}: 5 steps bit-exact vs the float32 reference, close to optim.SGD`, () => {
      const params = SIZES.map((n) => f32(n, n));
      const buffers = params.map((p) => (c.momentum ? new Float32Array(p.length).fill(NaN) : null));  // firstStep overwrites
      const refP = params.map((p) => p.slice()), refB = buffers.map((b) => (b ? b.slice() : null));
      const tensors = params.map((p) => Tensor.from(p.slice(), [p.length]));
      const opt = new SGD(tensors, c);
      for (let step = 0; step < 5; step++) {
        const grads = params.map((p, i) => f32(p.length, 100 * step + i));
        const hyper = new Float32Array([c.lr, c.momentum, c.dampening, c.weightDecay, c.nesterov ? 1 : 0, step === 0 ? 1 : 0]);
        native.sgdStep(params, grads, buffers, hyper);
        params.forEach((_, i) => sgdRef(refP[i], grads[i], refB[i], hyper));
        tensors.forEach((t, i) => { t.grad = Tensor.from(grads[i], [grads[i].length]); });
        opt.step();
      }
      params.forEach((p, i) => sameBits(p, refP[i]));
      buffers.forEach((b, i) => { if (b) sameBits(b, refB[i]!); });
      // optim.SGD computes in float64 with float64 hyper-parameters: close, not equal.
      tensors.forEach((t, i) => expectClose(params[i], t.data, 2e-6, 1e-7));
    });
  }
  it('the JS reference backend agrees with optim.SGD', () => {
    const w = f32(1000, 1), buf = new Float32Array(1000), t = Tensor.from(w.slice(), [1000]);
    const opt = new SGD([t], { lr: 0.1, momentum: 0.9 });
    for (let step = 0; step < 3; step++) {
      const g = f32(1000, 50 + step);
      jsBackend.sgdStep([w], [g], [buf], new Float32Array([0.1, 0.9, 0, 0, 0, step === 0 ? 1 : 0]));
      t.grad = Tensor.from(g, [1000]);
      opt.step();
    }
    expectClose(w, t.data, 2e-6, 1e-7);
  });
});

describe('adamStep', () => {
  for (const weightDecay of [0, 0.01]) {
    it(`weightDecay ${weightDecay}: 5 steps bit-exact vs the float32 reference, close to optim.Adam`, () => {
      const params = SIZES.map((n) => f32(n, n + 7));
      const m = params.map((p) => new Float32Array(p.length)), v = params.map((p) => new Float32Array(p.length));
      const refP = params.map((p) => p.slice()), refM = m.map((a) => a.slice()), refV = v.map((a) => a.slice());
      const tensors = params.map((p) => Tensor.from(p.slice(), [p.length]));
      const opt = new Adam(tensors, { lr: 1e-3, weightDecay });
      for (let t = 1; t <= 5; t++) {
        const grads = params.map((p, i) => f32(p.length, 200 * t + i));
        const hyper = new Float32Array([1e-3, 0.9, 0.999, 1e-8, weightDecay, 1 - 0.9 ** t, 1 - 0.999 ** t]);
        native.adamStep(params, grads, m, v, hyper);
        params.forEach((_, i) => adamRef(refP[i], grads[i], refM[i], refV[i], hyper));
        tensors.forEach((x, i) => { x.grad = Tensor.from(grads[i], [grads[i].length]); });
        opt.step();
      }
      params.forEach((p, i) => { sameBits(p, refP[i]); sameBits(m[i], refM[i]); sameBits(v[i], refV[i]); });
      tensors.forEach((x, i) => expectClose(params[i], x.data, 1e-5, 1e-6));
    });
  }
  it('the JS reference backend agrees with optim.Adam', () => {
    const w = f32(1000, 3), m = new Float32Array(1000), v = new Float32Array(1000), x = Tensor.from(w.slice(), [1000]);
    const opt = new Adam([x], { lr: 1e-3 });
    for (let t = 1; t <= 3; t++) {
      const g = f32(1000, 60 + t);
      jsBackend.adamStep([w], [g], [m], [v], new Float32Array([1e-3, 0.9, 0.999, 1e-8, 0, 1 - 0.9 ** t, 1 - 0.999 ** t]));
      x.grad = Tensor.from(g, [1000]);
      opt.step();
    }
    expectClose(w, x.data, 1e-5, 1e-6);
  });
});

describe('hostile calls: every bad argument named, the process lives on', () => {
  const F = (n: number) => new Float32Array(n);
  const h6 = () => F(6), h7 = () => F(7);
  const shared = F(10);
  const CASES: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ['unaryBackward x type', () => addon.unaryBackward(new Float64Array(4), F(4), F(4), F(4), 0, 0), TypeError, /unaryBackward: x must be a Float32Array, got a Float64Array/],
    ['unaryBackward dx length', () => addon.unaryBackward(F(4), F(4), F(4), F(5), 0, 0), RangeError, /unaryBackward: dx has 5 elements, expected 4/],
    ['unaryBackward x length', () => addon.unaryBackward(F(3), F(4), F(4), F(4), 0, 0), RangeError, /unaryBackward: x has 3 elements/],
    ['unaryBackward kind', () => addon.unaryBackward(F(4), F(4), F(4), F(4), 5, 0), RangeError, /unaryBackward: kind .* must be in \[0, 4\], got 5/],
    ['unaryBackward alpha NaN', () => addon.unaryBackward(F(4), F(4), F(4), F(4), 1, NaN), RangeError, /unaryBackward: alpha must be finite/],
    ['unaryBackward dx shifted over dy', () => addon.unaryBackward(F(4), F(4), shared.subarray(0, 4), shared.subarray(1, 5), 0, 0), RangeError, /unaryBackward: dx must be dy itself or not overlap it/],
    ['channelSum dims NaN', () => addon.channelSum(F(6), F(2), [3, 2, NaN]), RangeError, /channelSum: dims\[2\] \(inner\) must be a finite integer, got NaN/],
    ['channelSum negative N', () => addon.channelSum(F(6), F(2), [-3, 2, 1]), RangeError, /channelSum: dims\[0\] \(N\) must be in/],
    ['channelSum dy length', () => addon.channelSum(F(7), F(2), [3, 2, 1]), RangeError, /channelSum: dy has 7 elements, expected 6 for shape \[3,2,1\]/],
    ['channelSum out length', () => addon.channelSum(F(6), F(3), [3, 2, 1]), RangeError, /channelSum: out has 3 elements, expected 2/],
    ['channelSum out inside dy', () => addon.channelSum(shared.subarray(0, 6), shared.subarray(4, 6), [3, 2, 1]), RangeError, /channelSum: out must not overlap dy/],
    ['binaryBackward kind', () => addon.binaryBackward(F(6), F(6), F(6), [1, 1, 6], 4, 0, F(6), null), RangeError, /binaryBackward: kind .* got 4/],
    ['binaryBackward channel b', () => addon.binaryBackward(F(6), F(6), F(6), [3, 2, 1], 2, 1, F(6), null), RangeError, /binaryBackward: b has 6 elements, expected 2/],
    ['binaryBackward db length', () => addon.binaryBackward(F(6), F(2), F(6), [3, 2, 1], 2, 1, null, F(6)), RangeError, /binaryBackward: db has 6 elements, expected 2/],
    ['binaryBackward da type', () => addon.binaryBackward(F(6), F(6), F(6), [1, 1, 6], 0, 0, [1, 2], null), TypeError, /binaryBackward: da must be a Float32Array, got an Array/],
    ['binaryBackward da = db', () => { const o = F(6); return addon.binaryBackward(F(6), F(6), F(6), [1, 1, 6], 2, 0, o, o); }, RangeError, /binaryBackward: da must not overlap db/],
    ['globalPool2dBackward dy length', () => addon.globalPool2dBackward(F(12), F(3), F(12), [2, 2, 3], 0), RangeError, /globalPool2dBackward: dy has 3 elements, expected 4/],
    ['globalPool2dBackward mode', () => addon.globalPool2dBackward(F(12), F(4), F(12), [2, 2, 3], 2), RangeError, /globalPool2dBackward: mode .* got 2/],
    ['globalPool2dBackward dx = x', () => { const x = F(12); return addon.globalPool2dBackward(x, F(4), x, [2, 2, 3], 0); }, RangeError, /globalPool2dBackward: dx must not overlap x/],
    ['crossEntropyBackward target out of range', () => addon.crossEntropyBackward(F(6), new Int32Array([0, 3]), [2, 3], F(1), F(6)), RangeError, /crossEntropyBackward: targets\[1\] = 3 is out of range \[0, 3\)/],
    ['crossEntropyBackward negative target', () => addon.crossEntropyBackward(F(6), new Int32Array([-1, 0]), [2, 3], F(1), F(6)), RangeError, /crossEntropyBackward: targets\[0\] = -1/],
    ['crossEntropyBackward targets type', () => addon.crossEntropyBackward(F(6), [0, 1], [2, 3], F(1), F(6)), TypeError, /crossEntropyBackward: targets must be an Int32Array, got an Array/],
    ['crossEntropyBackward targets count', () => addon.crossEntropyBackward(F(6), new Int32Array(3), [2, 3], F(1), F(6)), RangeError, /crossEntropyBackward: targets has 3 elements, expected N = 2/],
    ['crossEntropyBackward gradOut length', () => addon.crossEntropyBackward(F(6), new Int32Array(2), [2, 3], F(2), F(6)), RangeError, /crossEntropyBackward: gradOut has 2 elements, expected 1/],
    ['crossEntropyBackward gradOut number', () => addon.crossEntropyBackward(F(6), new Int32Array(2), [2, 3], 1, F(6)), TypeError, /crossEntropyBackward: gradOut must be a Float32Array, got a number/],
    ['crossEntropyInto loss length', () => addon.crossEntropyInto(F(6), new Int32Array(2), [2, 3], F(2)), RangeError, /crossEntropyInto: loss has 2 elements, expected 1/],
    ['crossEntropyInto K = 0', () => addon.crossEntropyInto(F(0), new Int32Array(2), [2, 0], F(1)), RangeError, /crossEntropyInto: dims\[1\] \(K\) must be in/],
    ['fill value NaN', () => addon.fill(F(3), NaN), RangeError, /fill: value must be finite/],
    ['fill value too large', () => addon.fill(F(3), 1e300), RangeError, /fill: value must be a finite float32/],
    ['fill value string', () => addon.fill(F(3), '1'), TypeError, /fill: value must be a number, got a string/],
    ['copy lengths', () => addon.copy(F(3), F(4)), RangeError, /copy: src has 3 elements but dst has 4/],
    ['copy shifted overlap', () => addon.copy(shared.subarray(0, 4), shared.subarray(2, 6)), RangeError, /copy: dst must be src itself or not overlap it/],
    ['accumulate lengths', () => addon.accumulate(F(3), F(4)), RangeError, /accumulate: dst has 3 elements but src has 4/],
    ['accumulate type', () => addon.accumulate(F(3), undefined), TypeError, /accumulate: src must be a Float32Array, got undefined/],
    ['runningStatsUpdate lengths', () => addon.runningStatsUpdate(F(3), F(3), F(4), F(3), 0.1, 1), RangeError, /runningStatsUpdate: mean has 4 entries, expected 3/],
    ['runningStatsUpdate momentum', () => addon.runningStatsUpdate(F(3), F(3), F(3), F(3), 1.5, 1), RangeError, /runningStatsUpdate: momentum must be in \[0, 1\], got 1.5/],
    ['runningStatsUpdate unbias', () => addon.runningStatsUpdate(F(3), F(3), F(3), F(3), 0.1, -1), RangeError, /runningStatsUpdate: unbias must be >= 0, got -1/],
    ['runningStatsUpdate aliasing', () => { const a = F(3); return addon.runningStatsUpdate(a, a, F(3), F(3), 0.1, 1); }, RangeError, /runningStatsUpdate: runningMean must not overlap runningVar/],
    ['sgdStep params not an Array', () => addon.sgdStep(F(3), [F(3)], [null], h6()), TypeError, /sgdStep: params must be an Array of Float32Array, got a typed array/],
    ['sgdStep mismatched counts', () => addon.sgdStep([F(3), F(2)], [F(3)], [null, null], h6()), RangeError, /sgdStep: grads has 1 entries, expected 2 \(one per parameter\)/],
    ['sgdStep buffers count', () => addon.sgdStep([F(3)], [F(3)], [], h6()), RangeError, /sgdStep: buffers has 0 entries, expected 1/],
    ['sgdStep grad length', () => addon.sgdStep([F(3), F(2)], [F(3), F(5)], [null, null], h6()), RangeError, /sgdStep: grads\[1\] has 5 elements, expected 2 \(params\[1\]'s length\)/],
    ['sgdStep buffer length', () => addon.sgdStep([F(3)], [F(3)], [F(4)], h6()), RangeError, /sgdStep: buffers\[0\] has 4 elements, expected 3/],
    ['sgdStep entry type', () => addon.sgdStep([F(3), new Float64Array(3)], [F(3), F(3)], [null, null], h6()), TypeError, /sgdStep: params\[1\] must be a Float32Array, got a Float64Array/],
    ['sgdStep null param', () => addon.sgdStep([null], [F(3)], [null], h6()), TypeError, /sgdStep: params\[0\] must be a Float32Array, got null/],
    ['sgdStep hyper length', () => addon.sgdStep([F(3)], [F(3)], [null], F(5)), RangeError, /sgdStep: hyper has 5 entries, expected 6 \(lr, momentum/],
    ['sgdStep hyper type', () => addon.sgdStep([F(3)], [F(3)], [null], [0.1, 0, 0, 0, 0, 0]), TypeError, /sgdStep: hyper must be a Float32Array, got an Array/],
    ['sgdStep param twice', () => { const p = F(3); return addon.sgdStep([p, p], [F(3), F(3)], [null, null], h6()); }, RangeError, /sgdStep: params\[\d\] is the same array as params\[\d\]/],
    ['sgdStep buffer over a param', () => addon.sgdStep([shared.subarray(0, 4)], [F(4)], [shared.subarray(2, 6)], h6()), RangeError, /sgdStep: (buffers\[0\] overlaps params\[0\]|params\[0\] overlaps buffers\[0\])/],
    ['sgdStep grad is a param', () => { const p = F(3); return addon.sgdStep([p], [p], [null], h6()); }, RangeError, /sgdStep: .* is the same array as .*one is written/],
    ['sgdStep hyper inside a param', () => addon.sgdStep([shared], [F(10)], [null], shared.subarray(0, 6)), RangeError, /sgdStep: .*hyper\[0\]|hyper\[0\].*params\[0\]/],
    ['adamStep m count', () => addon.adamStep([F(3)], [F(3)], [], [F(3)], h7()), RangeError, /adamStep: m has 0 entries, expected 1/],
    ['adamStep null m entry', () => addon.adamStep([F(3)], [F(3)], [null], [F(3)], h7()), TypeError, /adamStep: m\[0\] must be a Float32Array, got null/],
    ['adamStep v = m', () => { const s = F(3); return addon.adamStep([F(3)], [F(3)], [s], [s], h7()); }, RangeError, /adamStep: v\[0\] is the same array as m\[0\] \(both are written\)|adamStep: m\[0\] is the same array as v\[0\]/],
    ['adamStep hyper length', () => addon.adamStep([F(3)], [F(3)], [F(3)], [F(3)], F(6)), RangeError, /adamStep: hyper has 6 entries, expected 7/],
    ['adamStep v length', () => addon.adamStep([F(3)], [F(3)], [F(3)], [F(2)], h7()), RangeError, /adamStep: v\[0\] has 2 elements, expected 3/],
  ];
  for (const [name, call, type, message] of CASES) {
    it(name, () => {
      let thrown: unknown = null;
      try { call(); } catch (e) { thrown = e; }
      expect(thrown).toBeInstanceOf(type);
      expect((thrown as Error).message).toMatch(message);
    });
  }
  it('after them all, a valid call still works', () => {
    const w = new Float32Array([1, 2]);
    native.sgdStep([w], [new Float32Array([1, 1])], [null], new Float32Array([0.5, 0, 0, 0, 0, 0]));
    expect([...w]).toEqual([0.5, 1.5]);
  });
});

interface CaptureAddon {
  beginCapture(): void;
  capturePlan(): unknown;
  planRun(plan: unknown): void;
  planDispose(plan: unknown): void;
  abortCapture(): void;
}

describe('capture', () => {
  const cap = getAddon() as unknown as CaptureAddon;
  it('every kernel records into a plan; a replay reads gradOut, targets and hyper anew and overwrites its outputs', () => {
    const N = 4, K = 3;
    const logits = f32(N * K, 1, -2, 2), targets = new Int32Array([0, 1, 2, 1]), gradOut = new Float32Array([1]);
    const loss = new Float32Array(1), dl = new Float32Array(N * K), dx = new Float32Array(N * K), sums = new Float32Array(K);
    const w = f32(N * K, 2), buf = new Float32Array(N * K), hyper = new Float32Array([0.1, 0.9, 0, 0, 0, 1]);
    const acc = new Float32Array(N * K), rm = new Float32Array(K), rv = new Float32Array(K).fill(1);
    const wA = w.slice(), mA = new Float32Array(N * K), vA = new Float32Array(N * K);
    const hyperA = new Float32Array([1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0.001]);
    const gp = new Float32Array(N * K), da = new Float32Array(N * K), db = new Float32Array(K);
    cap.beginCapture();
    try {
      native.crossEntropyInto(logits, targets, N, K, loss);
      grad.crossEntropyBackward(logits, targets, N, K, gradOut, dl);
      grad.unaryBackward('reluOut', logits, logits, dl, 0, dx);
      grad.channelSum(dl, N, K, 1, sums);
      grad.binaryBackward('mul', logits, sums, dl, N, K, 1, 'channel', da, db);
      grad.globalPool2dBackward(logits, dl.subarray(0, N), N, 1, K, 'max', gp);
      native.fill(acc, 0);
      native.accumulate(acc, dl);
      native.runningStatsUpdate(rm, rv, sums, sums, 0.1, 1);
      native.sgdStep([w], [dl], [buf], hyper);
      native.adamStep([wA], [dl], [mA], [vA], hyperA);
    } catch (e) {
      cap.abortCapture();
      throw e;
    }
    const plan = cap.capturePlan();
    expect(loss[0]).toBe(0);  // nothing ran yet
    expect(dl.every((v) => v === 0)).toBe(true);
    // The JS references of the same sequence, run as the replay should.
    const expectStep = () => {
      const rLoss = new Float32Array(1), rDl = new Float32Array(N * K);
      jsBackend.crossEntropyInto(logits, targets, N, K, rLoss);
      jsBackward.crossEntropyBackwardFrom(logits, targets, N, K, gradOut, rDl);
      return { rLoss, rDl };
    };
    const w0 = w.slice();
    cap.planRun(plan);
    let r = expectStep();
    expectClose(loss, r.rLoss, 1e-6);
    expectClose(dl, r.rDl, 1e-6, 1e-12);
    expectClose(acc, dl, 0);
    const refW = w0.slice(), refBuf = new Float32Array(N * K);
    sgdRef(refW, dl, refBuf, hyper);
    sameBits(w, refW);
    // New values in the arrays: the replay picks them up (and fill zeroes acc again before the sum).
    gradOut[0] = 2;
    targets.set([2, 2, 0, 1]);
    hyper[5] = 0;  // not the first step any more
    hyper[0] = 0.05;
    cap.planRun(plan);
    r = expectStep();
    expectClose(loss, r.rLoss, 1e-6);
    expectClose(dl, r.rDl, 1e-6, 1e-12);
    expectClose(acc, dl, 0);
    sgdRef(refW, dl, refBuf, hyper);
    sameBits(w, refW);
    // A target made invalid after the recording fails the replay with an error, not a wild read.
    targets[3] = 7;
    expect(() => cap.planRun(plan)).toThrow(/crossEntropy(Into|Backward): invalid argument/);
    cap.planDispose(plan);
  });

  it('a captured sgdStep pins every array of its lists: it still updates them after the lists were emptied and gc ran', () => {
    const script = `
      const addon = require('node-gyp-build')(${JSON.stringify(packageRoot())});
      const tick = () => new Promise((r) => setTimeout(r, 0));
      const fr = Math.fround;
      function record() {
        const params = [new Float32Array(5000).fill(1), new Float32Array(3).fill(2)];
        const grads = [new Float32Array(5000).fill(0.5), new Float32Array(3).fill(0.25)];
        const buffers = [new Float32Array(5000), null];
        const hyper = new Float32Array([0.1, 0.9, 0, 0, 0, 1]);
        addon.beginCapture();
        addon.sgdStep(params, grads, buffers, hyper);
        const plan = addon.capturePlan();
        const refs = [...params, ...grads, buffers[0]].map((a) => new WeakRef(a));
        // Only the plan holds the arrays now: the lists (pinned themselves) no longer reach them.
        params.length = 0; grads.length = 0; buffers.length = 0;
        return { plan, refs, hyper };
      }
      (async () => {
        const { plan, refs, hyper } = record();
        const control = new WeakRef(new Float32Array(5000));
        for (let i = 0; i < 4; i++) { global.gc(); await tick(); }
        const alive = refs.map((r) => r.deref() !== undefined);
        const controlCollected = control.deref() === undefined;
        addon.planRun(plan);
        hyper[5] = 0;
        addon.planRun(plan);
        // Expected after two steps, in float32.
        let w = 1, b = 0, w1 = 2;
        b = fr(0.5); w = fr(w - fr(fr(0.1) * b));
        w1 = fr(w1 - fr(fr(0.1) * fr(0.25)));
        b = fr(fr(fr(0.9) * b) + fr(1 * fr(0.5))); w = fr(w - fr(fr(0.1) * b));
        w1 = fr(w1 - fr(fr(0.1) * fr(0.25)));
        // Read in a call of its own: locals here would hold the arrays past planDispose.
        const values = ((p0, p1, b0) => (p0 && p1 && b0 ? [p0[0], p0[4999], p1[2], b0[123]] : null))(
          refs[0].deref(), refs[1].deref(), refs[4].deref());
        await tick();
        addon.planDispose(plan);
        for (let i = 0; i < 4; i++) { global.gc(); await tick(); }
        const releasedAfterDispose = refs.every((r) => r.deref() === undefined);
        console.log(JSON.stringify({ alive, controlCollected, values, expected: [w, w, w1, b], releasedAfterDispose }));
      })();
    `;
    const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    const r = JSON.parse(out.trim().split('\n').pop() as string);
    expect(r.controlCollected).toBe(true);  // gc does collect an unreferenced array here
    expect(r.alive).toEqual([true, true, true, true, true]);
    expect(r.values).toEqual(r.expected);
    expect(r.releasedAfterDispose).toBe(true);
  });
});

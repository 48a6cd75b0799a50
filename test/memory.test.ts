/**
 * memory() accounting and tidy/keep/dispose semantics (API.md "Tensor").
 */
import { describe, expect, it } from 'vitest';
import { ops, tensor, tidy, keep, memory, zeros, ones, Tensor, setBackend, getBackend } from '../lib/index';
import { normalF32 } from './reference/data';

describe('memory() after many ops inside tidy', () => {
  it('10,000 conv2d calls inside tidy return tensors/bytes to the start; native does not grow after warm-up', () => {
    setBackend('native');
    const x = tensor(normalF32(1 * 3 * 8 * 8, 1), [1, 3, 8, 8]);
    const w = tensor(normalF32(4 * 3 * 3 * 3, 2), [4, 3, 3, 3]);
    const b = tensor(normalF32(4, 3), [4]);
    // warm-up: let scratch/caches reach their plateau
    for (let i = 0; i < 200; i++) tidy(() => { ops.relu(ops.conv2d(x, w, b, { padding: 1 })); });
    const start = memory();
    let last: Tensor | null = null;
    for (let i = 0; i < 10_000; i++) {
      tidy(() => {
        const y = ops.conv2d(x, w, b, { padding: 1, stride: 1 + (i % 2) });
        last = y;
        return undefined;
      });
    }
    const end = memory();
    expect(last!.disposed).toBe(true);
    expect(end.tensors, `tensors ${start.tensors} -> ${end.tensors}`).toBe(start.tensors);
    expect(end.bytes, `bytes ${start.bytes} -> ${end.bytes}`).toBe(start.bytes);
    expect(end.native, `native bytes ${start.native} -> ${end.native}`).toBeLessThanOrEqual(start.native);
    // a second round must not grow either
    for (let i = 0; i < 2000; i++) tidy(() => { ops.maxPool2d(ops.conv2d(x, w, b), { kernelSize: 2 }); });
    const again = memory();
    expect(again.tensors).toBe(start.tensors);
    expect(again.bytes).toBe(start.bytes);
    expect(again.native).toBeLessThanOrEqual(Math.max(start.native, end.native));
  });

  it('the same holds on the js backend (tensors and bytes)', () => {
    setBackend('js');
    try {
      const x = tensor(normalF32(2 * 3 * 6 * 6, 4), [2, 3, 6, 6]);
      const start = memory();
      for (let i = 0; i < 2000; i++) tidy(() => { ops.softmax(ops.flatten(ops.avgPool2d(ops.relu(x), { kernelSize: 2 }))); });
      const end = memory();
      expect(end.tensors).toBe(start.tensors);
      expect(end.bytes).toBe(start.bytes);
    } finally {
      setBackend('native');
    }
    expect(getBackend()).toBe('native');
  });

  it('memory() reports a new tensor\'s data bytes and releases them on dispose', () => {
    const m0 = memory();
    const t = zeros([3, 5, 7]);
    const m1 = memory();
    expect(m1.tensors - m0.tensors).toBe(1);
    expect(m1.bytes - m0.bytes).toBe(3 * 5 * 7 * 4);
    expect(typeof m1.native).toBe('number');
    expect(m1.native).toBeGreaterThanOrEqual(0);
    t.dispose();
    const m2 = memory();
    expect(m2.tensors).toBe(m0.tensors);
    expect(m2.bytes).toBe(m0.bytes);
  });
});

describe('tidy semantics', () => {
  it('disposes intermediates and keeps the returned tensor', () => {
    const m0 = memory();
    let inner: Tensor | null = null;
    const y = tidy(() => {
      inner = ones([4]);
      return ops.relu(ops.mul(inner, inner));
    });
    expect(inner!.disposed).toBe(true);
    expect(y.disposed).toBe(false);
    expect(Array.from(y.toArray())).toEqual([1, 1, 1, 1]);
    expect(memory().tensors).toBe(m0.tensors + 1);
    y.dispose();
    expect(memory().tensors).toBe(m0.tensors);
  });

  it('does not dispose tensors created outside', () => {
    const outside = ones([2]);
    tidy(() => { ops.relu(outside); return undefined; });
    expect(outside.disposed).toBe(false);
    outside.dispose();
  });

  it('nested tidy: the inner result survives into the outer scope and is disposed there if not returned', () => {
    const m0 = memory();
    let innerResult: Tensor | null = null;
    let innerTemp: Tensor | null = null;
    const out = tidy(() => {
      innerResult = tidy(() => {
        innerTemp = ones([3]);
        return ops.add(innerTemp, innerTemp);
      });
      expect(innerTemp!.disposed).toBe(true);
      expect(innerResult.disposed).toBe(false);
      return ops.mul(innerResult, innerResult);
    });
    expect(innerResult!.disposed).toBe(true); // not returned by the outer fn
    expect(Array.from(out.toArray())).toEqual([4, 4, 4]);
    out.dispose();
    expect(memory().tensors).toBe(m0.tensors);
  });

  it('keep() survives every enclosing tidy', () => {
    let kept: Tensor | null = null;
    tidy(() => tidy(() => { kept = keep(ones([2])); ones([3]); return undefined; }));
    expect(kept!.disposed).toBe(false);
    kept!.dispose();
    expect(() => keep(('x' as unknown) as Tensor)).toThrow(TypeError);
  });

  it('a throwing fn still disposes what it created, and the error propagates', () => {
    const m0 = memory();
    let made: Tensor | null = null;
    expect(() => tidy(() => { made = ones([5]); ops.conv2d(made, made); return made; })).toThrow(RangeError);
    expect(made!.disposed).toBe(true);
    expect(memory().tensors).toBe(m0.tensors);
    expect(memory().bytes).toBe(m0.bytes);
  });

  it('a Promise-returning fn is a TypeError (and its tensors are disposed)', () => {
    const m0 = memory();
    let made: Tensor | null = null;
    expect(() => tidy((() => { made = ones([2]); return Promise.resolve(made); }) as never)).toThrow(TypeError);
    expect(made!.disposed).toBe(true);
    expect(memory().tensors).toBe(m0.tensors);
    expect(() => tidy((async () => ones([1])) as never)).toThrow(TypeError);
    expect(() => tidy(('notfn' as unknown) as () => void)).toThrow(TypeError);
  });

  it('arrays and objects of tensors may be returned', () => {
    const m0 = memory();
    let temp: Tensor | null = null;
    const [a, b] = tidy(() => { temp = ones([2]); return [ops.add(temp, temp), ops.mul(temp, temp)]; });
    expect(temp!.disposed).toBe(true);
    expect(a.disposed || b.disposed).toBe(false);
    const o = tidy(() => ({ x: ones([1]), nested: { y: zeros([2]), list: [ones([3])] }, n: 5 }));
    expect(o.x.disposed || o.nested.y.disposed || o.nested.list[0].disposed).toBe(false);
    expect(o.n).toBe(5);
    for (const t of [a, b, o.x, o.nested.y, o.nested.list[0]]) t.dispose();
    expect(memory().tensors).toBe(m0.tensors);
  });
});

describe('reshape views, dispose', () => {
  it('reshape shares storage and its bytes are counted once', () => {
    const m0 = memory();
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const v = x.reshape([3, 2]);
    const mid = x.reshape([1, 2, 3]);
    const f = ops.flatten(mid, 0);
    const m1 = memory();
    expect(m1.tensors - m0.tensors).toBe(4);
    expect(m1.bytes - m0.bytes).toBe(24);
    // shared: a write through the (internal) data of one is visible through the views
    (x as unknown as { data: Float32Array }).data[0] = 42;
    expect(v.toArray()[0]).toBe(42);
    expect(f.toArray()[0]).toBe(42);
    // disposing the base keeps the storage alive for the views
    x.dispose();
    expect(memory().bytes - m0.bytes).toBe(24);
    expect(v.toArray()[5]).toBe(6);
    v.dispose(); mid.dispose();
    expect(memory().bytes - m0.bytes).toBe(24);
    f.dispose();
    expect(memory().tensors).toBe(m0.tensors);
    expect(memory().bytes).toBe(m0.bytes);
  });

  it('all views disposed -> bytes released', () => {
    const m0 = memory();
    const x = zeros([10]);
    const a = x.reshape([2, 5]);
    const b = a.reshape([5, -1]);
    expect(b.shape).toEqual([5, 2]);
    expect(memory().bytes - m0.bytes).toBe(40);
    x.dispose(); a.dispose();
    expect(memory().bytes - m0.bytes).toBe(40);
    b.dispose();
    expect(memory().bytes).toBe(m0.bytes);
    expect(memory().tensors).toBe(m0.tensors);
  });

  it('dispose is idempotent', () => {
    const m0 = memory();
    const x = ones([3]);
    x.dispose();
    x.dispose();
    x.dispose();
    expect(x.disposed).toBe(true);
    expect(memory().tensors).toBe(m0.tensors);
    expect(memory().bytes).toBe(m0.bytes);
  });

  it('using a disposed tensor throws an Error containing "disposed"; toArray taken before stays valid', () => {
    const x = tensor([1, 2, 3], [3]);
    const copy = x.toArray();
    x.dispose();
    expect(Array.from(copy)).toEqual([1, 2, 3]);
    for (const use of [() => x.toArray(), () => x.item(), () => x.reshape([3]), () => ops.relu(x), () => ops.add(x, x), () => ops.softmax(x, 0)]) {
      expect(use).toThrow(Error);
      expect(use).toThrow(/disposed/);
    }
  });
});

describe('output-buffer pool', () => {
  it('reuses disposed op outputs, reports them in memory().pooled, stays bounded, and frees on limit 0', async () => {
    const { setBufferPoolLimit } = await import('../lib/index');
    setBackend('native');
    setBufferPoolLimit(256 * 1024 * 1024);
    const x = tensor(normalF32(2 * 3 * 16 * 16, 4), [2, 3, 16, 16]);
    const w = tensor(normalF32(8 * 3 * 3 * 3, 5), [8, 3, 3, 3]);
    const outBytes = 2 * 8 * 16 * 16 * 4;
    const y0 = ops.conv2d(x, w, null, { padding: 1 });
    const first = y0.toArray();
    y0.dispose();
    expect(memory().pooled).toBeGreaterThanOrEqual(outBytes);
    const before = memory().pooled;
    // The next same-sized output takes the pooled array (its old contents are overwritten).
    const y1 = ops.conv2d(x, w, null, { padding: 1 });
    expect(memory().pooled).toBe(before - outBytes);
    expect(y1.toArray()).toEqual(first);
    y1.dispose();
    // Steady state: many calls do not grow the pool.
    for (let i = 0; i < 500; i++) tidy(() => { ops.relu(ops.conv2d(x, w, null, { padding: 1 })); });
    const steady = memory().pooled;
    for (let i = 0; i < 500; i++) tidy(() => { ops.relu(ops.conv2d(x, w, null, { padding: 1 })); });
    expect(memory().pooled).toBe(steady);
    // A small limit bounds the pool; 0 empties it and turns it off.
    setBufferPoolLimit(outBytes);
    expect(memory().pooled).toBeLessThanOrEqual(outBytes);
    setBufferPoolLimit(0);
    expect(memory().pooled).toBe(0);
    tidy(() => { ops.conv2d(x, w, null, { padding: 1 }); });
    expect(memory().pooled).toBe(0);
    expect(() => setBufferPoolLimit(-1)).toThrow(RangeError);
    setBufferPoolLimit(256 * 1024 * 1024);
    x.dispose(); w.dispose();
  });

  it('an array a recorded backward still reads is never handed to a later op', () => {
    for (const be of ['native', 'js'] as const) {
      setBackend(be);
      const x = tensor(normalF32(1 * 2 * 6 * 6, 7), [1, 2, 6, 6]);
      const w = tensor(normalF32(3 * 2 * 3 * 3, 8), [3, 2, 3, 3]);
      w.requiresGrad = true;
      // Reference gradient.
      const ref = tidy(() => {
        const h = ops.relu(x);
        const loss = ops.sum(ops.conv2d(h, w, null, { padding: 1 }));
        loss.backward();
        const g = w.grad!.toArray();
        w.grad = null;
        return g;
      });
      // Same graph, but the conv input (an op output made without grad) is disposed before
      // backward and many same-sized outputs are allocated in between.
      const h = ops.relu(x);
      const loss = ops.sum(ops.conv2d(h, w, null, { padding: 1 }));
      h.dispose();
      for (let i = 0; i < 20; i++) tidy(() => { ops.mul(x, x); });
      loss.backward();
      expect(w.grad!.toArray(), be).toEqual(ref);
      w.grad = null;
      loss.dispose(); x.dispose(); w.dispose();
    }
    setBackend('native');
  });
});

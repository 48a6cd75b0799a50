import { afterAll, describe, expect, it } from 'vitest';
import { io, manualSeed, models, noGrad, randn, serve, type Tensor } from '../../lib/index';

// Rows from a batched forward must equal the unbatched forwards bit for bit: every kernel keeps a
// row's reduction order whatever the batch (test/kernels/batch-invariance.test.ts).
manualSeed(3);
const net = models.lenet5().eval();
const xs = Array.from({ length: 12 }, (_, i) => randn([1, 1, 28, 28], { seed: 100 + i }));
const refs = xs.map((x) => noGrad(() => net.call(x)).toArray());

afterAll(() => { for (const x of xs) x.dispose(); });

function rows(ys: Tensor[]): number[][] {
  return ys.map((y) => { const a = Array.from(y.toArray()); y.dispose(); return a; });
}

/** Counts the batch sizes an nn Module's forwardAsync is called with. */
function counted(): { model: typeof net; sizes: number[]; restore(): void } {
  const sizes: number[] = [];
  const orig = net.forwardAsync;
  net.forwardAsync = function (x: Tensor) { sizes.push(x.shape[0]); return orig.call(this, x); };
  return { model: net, sizes, restore: () => { net.forwardAsync = orig; } };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof serve.ServeError ? e.code : `not a ServeError: ${(e as Error).message}`;
  }
}

describe('serve.Batcher', () => {
  it('gathers concurrent requests into batched forwards; each caller gets its own row, bit-identical', async () => {
    const c = counted();
    try {
      const b = new serve.Batcher(net, { maxBatchSize: 4, maxQueueDelayMs: 20 });
      const ys = await Promise.all(xs.slice(0, 10).map((x) => b.infer(x)));
      expect(ys[0].shape).toEqual([1, 10]);
      expect(rows(ys)).toEqual(refs.slice(0, 10).map((r) => Array.from(r)));
      expect(c.sizes).toEqual([4, 4, 2]);
      expect(b.stats).toEqual({ batches: 3, rows: 10 });
      await b.close();
    } finally {
      c.restore();
    }
  });

  it('maxBatchSize 1 runs one forward per request; a lone request leaves after maxQueueDelayMs', async () => {
    const c = counted();
    try {
      const b = new serve.Batcher(net, { maxBatchSize: 1, maxQueueDelayMs: 50 });
      expect(rows(await Promise.all(xs.slice(0, 3).map((x) => b.infer(x))))).toEqual(refs.slice(0, 3).map((r) => Array.from(r)));
      expect(c.sizes).toEqual([1, 1, 1]);
      const d = new serve.Batcher(net, { maxBatchSize: 8, maxQueueDelayMs: 40 });
      const t0 = performance.now();
      rows([await d.infer(xs[0])]);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(35);
      await Promise.all([b.close(), d.close()]);
    } finally {
      c.restore();
    }
  });

  it('a CompiledModule runs its compiled batch: partial batches are padded, rows identical', async () => {
    const compiled = net.compile([4, 1, 28, 28]);
    const b = new serve.Batcher(compiled, { maxBatchSize: 16, maxQueueDelayMs: 10 });
    expect(b.maxBatchSize).toBe(4);
    let ran = 0;
    const orig = compiled.forwardAsync.bind(compiled);
    compiled.forwardAsync = (x: Tensor) => { ran++; expect(x.shape[0]).toBe(4); return orig(x); };
    const got = rows(await Promise.all(xs.slice(0, 6).map((x) => b.infer(x))));
    expect(ran).toBe(2);
    expect(got).toEqual(refs.slice(0, 6).map((r) => Array.from(r)));
    // The compiled shape is checked when the request is queued.
    expect(await code(b.infer(randn([1, 1, 27, 27], { seed: 1 })))).toBe('INVALID_INPUT');
    await b.close();
    compiled.dispose();
  });

  it('an OnnxModel (runAsync) gives the module\'s rows within 1e-6', async () => {
    const onnx = await io.loadOnnx(io.onnxFromStateDict.lenet5(net.stateDict()));
    const b = new serve.Batcher(onnx, { maxBatchSize: 8, maxQueueDelayMs: 10 });
    const got = rows(await Promise.all(xs.slice(0, 5).map((x) => b.infer(x))));
    expect(b.stats.batches).toBe(1);
    for (let i = 0; i < 5; i++) {
      const err = Math.max(...got[i].map((v, j) => Math.abs(v - refs[i][j])));
      expect(err).toBeLessThanOrEqual(1e-6);
    }
    // Unbatched ONNX forwards of the same samples: exactly the batched rows.
    const single = xs.slice(0, 5).map((x) => { const y = onnx.run(x); const a = Array.from(y.toArray()); y.dispose(); return a; });
    expect(got).toEqual(single);
    await b.close();
    onnx.dispose();
  });

  it('batchSizes pads a batch to the next listed size (bounded plan shapes); rows are unchanged', async () => {
    const c = counted();
    try {
      const b = new serve.Batcher(net, { maxBatchSize: 16, maxQueueDelayMs: 20, batchSizes: [1, 2, 4, 8] });
      expect(b.maxBatchSize).toBe(8);
      const sizes: number[] = [];
      const b2 = new serve.Batcher(net, { maxBatchSize: 8, maxQueueDelayMs: 20, batchSizes: [1, 4], onBatch: (i) => sizes.push(i.size, i.padded) });
      expect(rows(await Promise.all(xs.slice(0, 11).map((x) => b.infer(x))))).toEqual(refs.slice(0, 11).map((r) => Array.from(r)));
      expect(c.sizes).toEqual([8, 4]); // 8 rows, then 3 padded to 4
      expect(b.stats.rows).toBe(11);
      expect(b2.maxBatchSize).toBe(4);
      expect(rows(await Promise.all(xs.slice(0, 2).map((x) => b2.infer(x))))).toEqual(refs.slice(0, 2).map((r) => Array.from(r)));
      expect(sizes).toEqual([2, 4]);
      expect(() => new serve.Batcher(net, { batchSizes: [4, 2] })).toThrow(/ascending list of positive integers, got \[4, 2\]/);
      await Promise.all([b.close(), b2.close()]);
    } finally {
      c.restore();
    }
  });

  it('a full queue rejects at once with QUEUE_FULL; close() rejects the queued with CLOSED and refuses new work', async () => {
    const b = new serve.Batcher(net, { maxBatchSize: 8, maxQueueDelayMs: 10_000, maxQueueSize: 2 });
    const a1 = code(b.infer(xs[0]));
    const a2 = code(b.infer(xs[1]));
    expect(b.queueDepth).toBe(2);
    const t0 = performance.now();
    const full = b.infer(xs[2]);
    expect(await code(full)).toBe('QUEUE_FULL');
    await full.catch((e: Error) => expect(e.message).toMatch(/queue is full \(2 requests waiting, maxQueueSize 2\)/));
    expect(performance.now() - t0).toBeLessThan(50);
    await b.close();
    expect([await a1, await a2]).toEqual(['CLOSED', 'CLOSED']);
    expect(await code(b.infer(xs[0]))).toBe('CLOSED');
    expect(b.stats.batches).toBe(0);
  });

  it('a request times out or is aborted while it waits, and is never computed; the others are unaffected', async () => {
    const c = counted();
    try {
      const b = new serve.Batcher(net, { maxBatchSize: 8, maxQueueDelayMs: 150 });
      const ac = new AbortController();
      const timed = code(b.infer(xs[0], { timeoutMs: 20 }));
      const aborted = code(b.infer(xs[1], { signal: ac.signal }));
      const good = b.infer(xs[2]);
      setTimeout(() => ac.abort(), 10);
      expect(await timed).toBe('TIMEOUT');
      expect(await aborted).toBe('ABORTED');
      expect(b.queueDepth).toBe(1);
      expect(rows([await good])).toEqual([Array.from(refs[2])]);
      expect(c.sizes).toEqual([1]);
      const pre = new AbortController();
      pre.abort();
      expect(await code(b.infer(xs[0], { signal: pre.signal }))).toBe('ABORTED');
      await b.close();
    } finally {
      c.restore();
    }
  });

  it('one bad request never fails the others: wrong shapes fail alone, good rows still come', async () => {
    const b = new serve.Batcher(net, { maxBatchSize: 8, maxQueueDelayMs: 10 });
    const bad = randn([1, 1, 27, 27], { seed: 9 }); // LeNet-5's classifier cannot take it
    const p = [b.infer(xs[0]), b.infer(bad), b.infer(xs[1]), b.infer(randn([2, 1, 28, 28], { seed: 1 })), b.infer(xs[2])];
    const settled = await Promise.allSettled(p);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    const reason = (i: number) => (settled[i] as PromiseRejectedResult).reason as serve.ServeError;
    expect(reason(1).code).toBe('INFERENCE_FAILED');
    expect(reason(3).code).toBe('INVALID_INPUT');
    expect(reason(3).message).toMatch(/one sample, shape \[1, \.\.\.\], got \[2,1,28,28\]/);
    const good = [0, 2, 4].map((i) => (settled[i] as PromiseFulfilledResult<Tensor>).value);
    expect(rows(good)).toEqual([0, 1, 2].map((i) => Array.from(refs[i])));
    expect(await code(b.infer('nope' as unknown as Tensor))).toBe('INVALID_INPUT');
    bad.dispose();
    await b.close();
  });

  it('a batch whose forward throws is retried row by row (only the failing row fails)', async () => {
    let calls = 0;
    const engine: serve.BatchEngine = {
      sampleShape: [2], fixedBatch: null,
      async run(data, shape) {
        calls++;
        for (let i = 0; i < shape[0]; i++) if (data[2 * i] < 0) throw new Error(`row ${i} is negative`);
        return { data: data.map((v) => v * 2), shape };
      },
    };
    const b = new serve.Batcher(engine, { maxBatchSize: 4, maxQueueDelayMs: 10 });
    const { tensor } = await import('../../lib/index');
    const out = await Promise.allSettled([b.infer(tensor([1, 2], [1, 2])), b.infer(tensor([-1, 0], [1, 2])), b.infer(tensor([3, 4], [1, 2]))]);
    expect(out.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(Array.from((out[2] as PromiseFulfilledResult<Tensor>).value.toArray())).toEqual([6, 8]);
    expect(((out[1] as PromiseRejectedResult).reason as Error).message).toMatch(/forward failed: row 0 is negative/);
    expect(calls).toBe(4); // the batch, then each row
    await b.close();
  });

  it('refuses a module in training mode and bad options, saying what was expected', () => {
    const m = models.lenet5();
    expect(() => new serve.Batcher(m)).toThrow(/training mode; call eval\(\) first/);
    m.dispose();
    expect(() => new serve.Batcher(net, { maxBatchSize: 0 })).toThrow(/maxBatchSize must be a positive integer, got 0/);
    expect(() => new serve.Batcher(net, { maxQueueDelayMs: -1 })).toThrow(/maxQueueDelayMs must be a finite number >= 0/);
    expect(() => new serve.Batcher({} as never)).toThrow(/must be an nn Module, a CompiledModule, an OnnxModel or a BatchEngine/);
  });
});

import { describe, expect, it } from 'vitest';
import { manualSeed, models, noGrad, randn, serve, tensor } from '../../lib/index';

// The pool's workers run the compiled package (dist/lib/serve/pool-worker.js): build first.
describe('serve.Pool (piscina worker threads)', () => {
  it('2 workers load the same seeded model and answer exactly as the main thread; buffers are transferred', async () => {
    manualSeed(7);
    const net = models.lenet5().eval();
    const xs = Array.from({ length: 6 }, (_, i) => randn([1, 1, 28, 28], { seed: 200 + i }));
    const refs = xs.map((x) => Array.from(noGrad(() => net.call(x)).toArray()));
    const pool = await serve.Pool.create({ model: 'lenet5', workers: 2, seed: 7 });
    try {
      expect(pool.concurrency).toBe(2);
      expect(pool.sampleShape).toEqual([1, 28, 28]);
      expect(pool.outputShape).toEqual([10]);
      // Direct runs: the input's buffer is moved to the worker (detached here), the output moved back.
      const batch = new Float32Array(2 * 784);
      batch.set(xs[0].toArray(), 0);
      batch.set(xs[1].toArray(), 784);
      const out = await pool.run(batch, [2, 1, 28, 28]);
      expect(batch.byteLength).toBe(0);
      expect(out.shape).toEqual([2, 10]);
      expect(Array.from(out.data)).toEqual([...refs[0], ...refs[1]]);
      // Through a Batcher: two batches in flight at once, one per worker.
      const b = new serve.Batcher(pool, { maxBatchSize: 3, maxQueueDelayMs: 20 });
      expect(b.concurrency).toBe(2);
      const ys = await Promise.all(xs.map((x) => b.infer(x)));
      expect(ys.map((y) => Array.from(y.toArray()))).toEqual(refs);
      expect(b.stats.batches).toBe(2);
      // A bad shape is refused before it reaches a worker.
      await expect(b.infer(tensor(new Float32Array(4), [1, 4]))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await b.close();
    } finally {
      await pool.close();
      net.dispose();
    }
  });

  it('a model that cannot load fails create() with the reason', async () => {
    await expect(serve.Pool.create({ model: '/nonexistent/model.onnx', workers: 1 })).rejects.toThrow(/neither a built-in model .* nor a readable ONNX file/);
  });
});

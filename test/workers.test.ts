/**
 * simdcnn inside worker_threads: several workers running forwards at once give the main thread's
 * results bit for bit; terminating workers while their forwards are in flight (what worker pools
 * do to idle or timed-out workers) never takes the process down and leaks nothing.
 *
 * Everything runs the built package (dist/ and build/Release, as `require('simdcnn')` does), in this
 * process as in the workers (test/fixtures/workers/forward-worker.js), so that both sides run the
 * same code. The terminate cycles run in a child node process (terminate-cycles.js): before the fix
 * an abort (SIGABRT from a C++ exception escaping into Node-API, or SIGSEGV in an unloaded addon)
 * killed the whole process, which must show as a failed exit status rather than a dead runner.
 * scripts/worker-loop.sh repeats this file 20 times.
 */
import { execFile } from 'child_process';
import { createRequire } from 'module';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';

type Simdcnn = typeof import('../lib/index');
const root = path.resolve(__dirname, '..');
const sc = createRequire(__filename)(root) as Simdcnn;
const fixtures = path.join(__dirname, 'fixtures', 'workers');
const workerScript = path.join(fixtures, 'forward-worker.js');

type Outputs = Record<string, Float32Array>;
const PATHS = ['async', 'compiled', 'sync', 'onnxAsync', 'onnxSync'];

/** The float32 bit patterns, so that -0 vs 0 and NaN payloads count as differences. */
const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function onExit(w: Worker): Promise<number> {
  return new Promise((resolve) => w.once('exit', resolve));
}

let onnx: Uint8Array;
let ref: Outputs;
let before: ReturnType<Simdcnn['memory']>;

beforeAll(async () => {
  // The reference: the same seeded ResNet-18 and input as the workers build, on this thread.
  sc.manualSeed(1);
  const net = sc.models.resnet18({ numClasses: 10 }).eval();
  const x = sc.randn([1, 3, 64, 64], { seed: 101 });
  const bytes = sc.io.saveOnnx(net, [1, 3, 64, 64]);
  onnx = new Uint8Array(new SharedArrayBuffer(bytes.length));
  onnx.set(bytes);
  const m = await sc.io.loadOnnx(onnx);
  const fast = net.compile([1, 3, 64, 64]);
  const take = (y: InstanceType<Simdcnn['Tensor']>) => { const a = y.toArray(); y.dispose(); return a; };
  ref = {
    async: take(await net.forwardAsync(x)),
    compiled: take(await fast.forwardAsync(x)),
    sync: take(sc.noGrad(() => net.call(x))),
    onnxAsync: take(await m.runAsync(x)),
    onnxSync: take(m.run(x)),
  };
  before = sc.memory();
}, 120_000);

describe('worker_threads', () => {
  it('three workers running forwards at once give the main thread\'s results bit for bit', async () => {
    const workers = [1, 2, 3].map(() => new Worker(workerScript, {
      workerData: { mode: 'once', source: 'resnet18', seed: 1, onnx, repeat: 3 },
    }));
    // Each worker: 'ready' once its models are built, then its outputs; an error or an early exit
    // fails both steps instead of leaving them pending.
    const steps = workers.map((w, i) => {
      let ready!: () => void, fail!: (e: Error) => void, done!: (m: { out: Outputs }) => void;
      const readyP = new Promise<void>((res, rej) => { ready = res; fail = rej; });
      const resultP = new Promise<{ out: Outputs }>((res, rej) => {
        done = res;
        const failBoth = (e: Error) => { fail(e); rej(e); };
        w.on('message', (m) => {
          if (m === 'ready') ready();
          else if (m && m.error) failBoth(new Error(`worker ${i}: ${m.error}`));
          else done(m);
        });
        w.on('error', (e) => failBoth(new Error(`worker ${i}: ${e.stack ?? e}`)));
        w.on('exit', (code) => failBoth(new Error(`worker ${i} exited (${code}) before posting its outputs`)));
      });
      resultP.catch(() => {});  // awaited below; observed here in case readyP fails first
      return { readyP, resultP, exited: onExit(w) };
    });
    // Start every worker's forwards together once all have built their models, so they overlap.
    await Promise.all(steps.map((s) => s.readyP));
    for (const w of workers) w.postMessage('go');
    const got = await Promise.all(steps.map((s) => s.resultP));
    expect(await Promise.all(steps.map((s) => s.exited))).toEqual([0, 0, 0]);
    for (const [i, g] of got.entries()) {
      expect(Object.keys(g.out).sort(), `worker ${i}`).toEqual([...PATHS].sort());
      for (const p of PATHS) {
        expect(g.out[p].length, `worker ${i} ${p}`).toBe(10);
        expect(bits(g.out[p]), `worker ${i}: ${p} differs from the main thread's`).toEqual(bits(ref[p]));
      }
    }
  }, 120_000);

  it('workers terminated mid-forward in this process leave it working and its results unchanged', async () => {
    for (let i = 0; i < 4; i++) {
      const w = new Worker(workerScript, { workerData: { mode: 'loop', source: 'onnx', onnx } });
      let ticks = 0;
      await new Promise<void>((resolve, reject) => {
        // After its first forward has finished, the next is in flight: terminate 20-95 ms later.
        w.on('message', (m) => {
          if (m === 'tick' && ++ticks === 1) resolve();
          else if (m && m.error) reject(new Error(m.error));
        });
        w.on('error', reject);
      });
      await new Promise((r) => setTimeout(r, 20 + 25 * i));
      const exited = onExit(w);
      await w.terminate();
      expect(await exited).toBe(1);  // terminated, not finished
    }
    // The main thread's own model still gives the same bits.
    const m = await sc.io.loadOnnx(onnx);
    const x = sc.randn([1, 3, 64, 64], { seed: 101 });
    const y = await m.runAsync(x);
    expect(bits(y.toArray())).toEqual(bits(ref.onnxAsync));
    y.dispose();
    x.dispose();
    m.dispose();
  }, 120_000);

  describe('create / forward / terminate cycles in a child process', () => {
    // 4 warm-up cycles, then 16 measured: 20 workers terminated 20-110 ms into their forwards,
    // two at a time; every fifth builds models.resnet18 and runs the module, compiled and
    // synchronous paths, the others load the ONNX export and run its plan.
    let result: { status: number | null; signal: string | null; stdout: string; stderr: string };
    let report: { cycles: number; warmup: number; forwards: number; rssAfterWarmup: number; rssEnd: number; series: number[]; seconds: number };

    beforeAll(async () => {
      result = await new Promise((resolve) => {
        execFile(process.execPath, ['--expose-gc', path.join(fixtures, 'terminate-cycles.js'),
          'warmup=4', 'cycles=16', 'every=4', 'parallel=2', 'resnetEvery=5', 'seed=7'], {
          timeout: 110_000,
          maxBuffer: 1 << 20,
          // glibc otherwise raises its mmap threshold to the largest block freed so far, and then
          // keeps freed model-sized blocks in the heap of whichever arena a dead worker's thread
          // used: RSS then jumps by ~100 MB between samples with nothing live. A fixed threshold
          // returns large blocks when freed, so RSS follows what is live (flat within ~2 MB here).
          env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' },
        }, (err, stdout, stderr) => {
          const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: string }) | null;
          resolve({ status: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
        });
      });
      if (result.status === 0) report = JSON.parse(result.stdout.trim().split('\n').pop() as string);
    }, 120_000);

    it('terminate() during forwardAsync / runAsync never aborts the process', () => {
      expect({ status: result.status, signal: result.signal, stderr: result.stderr.slice(-2000) })
        .toEqual({ status: 0, signal: null, stderr: '' });
      expect(report.cycles + report.warmup).toBe(20);
      // The workers were running forwards when terminated: each finished some before it was cut off.
      expect(report.forwards).toBeGreaterThanOrEqual(20);
    });

    it('the process does not grow: RSS after each 4 more cycles within 16 MiB of RSS after the warm-up', () => {
      expect(result.status).toBe(0);
      const MiB = 2 ** 20;
      console.log(`worker cycles: RSS ${(report.rssAfterWarmup / MiB).toFixed(0)} MiB after ${report.warmup} cycles, ` +
        `${report.series.map((r) => (r / MiB).toFixed(0)).join(' / ')} MiB after each 4 more; ` +
        `${report.forwards} forwards finished, ${report.seconds} s`);
      expect(report.series.length).toBe(4);
      // One worker holds ~45 MB of weights alone (more with its prepared copies) and ~2 MB of
      // activations per forward: a worker, a model or a set of pinned activations leaked per cycle
      // would add 32-700 MiB over these 16 cycles.
      for (const r of report.series) expect(r - report.rssAfterWarmup).toBeLessThan(16 * MiB);
    });
  });

  it("this thread's memory() is unchanged by the workers", () => {
    // No tensor or byte of the workers' is counted here. Native memory is process-wide: scratch
    // blocks the workers' kernels freed stay cached for the next call, at most 64 MiB of them.
    const after = sc.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
    expect(after.native).toBeLessThanOrEqual(before.native + 64 * 2 ** 20);
  });
});

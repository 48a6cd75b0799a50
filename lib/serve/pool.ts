/**
 * Multi-core serving: a piscina pool of worker threads, each holding its own copy of the model
 * (loaded once, when the worker starts). The pool is a BatchEngine: a Batcher in the main thread
 * forms the batches and keeps `workers` of them in flight, one per worker. A batch's input array
 * is transferred to the worker (no structured-clone copy) and its output array transferred back.
 *
 * Why threads and not more intra-op threads: simdcnn's kernels split work over output channels
 * and pixels, which leaves cores idle on small layers (LeNet-5, batch 1); independent requests on
 * independent workers keep every core busy. Each worker runs its forwards with
 * `threads` intra-op threads (default: cores / workers, at least 1).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Piscina } from 'piscina';
import { describe, shapeStr } from '../errors';
import { ServeError } from './errors';
import type { BatchEngine, BatchOutput } from './engine';
import type { PoolInfo, PoolTask, PoolWorkerData } from './pool-worker';

export interface PoolOptions {
  /** 'lenet5' | 'resnet18' (seeded random weights) or the path of an ONNX file. */
  model: string;
  /** Worker threads (default 2). */
  workers?: number;
  /** Seed of a built-in model's weights (default 0): the same seed gives the same weights everywhere. */
  seed?: number;
  /** Sample shape for an ONNX file whose input dims are free. */
  inputShape?: number[];
  /** Intra-op threads per worker (default max(1, floor(cores / workers))). */
  threads?: number;
  /** The compiled worker script (default: pool-worker.js beside this file, or in dist/ when run from source). */
  workerFile?: string;
}

/** dist/lib/serve/pool-worker.js: beside the compiled pool.js, or under dist/ when this file runs from lib/ (tests). */
function workerScript(): string {
  const candidates = [path.join(__dirname, 'pool-worker.js'), path.resolve(__dirname, '..', '..', 'dist', 'lib', 'serve', 'pool-worker.js')];
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) throw new Error(`serve.Pool: the worker script is not built (looked for ${candidates.join(' and ')}); run npx tsc -p tsconfig.json`);
  return found;
}

/**
 * A pool of worker threads serving one model.
 * @example
 * const pool = await serve.Pool.create({ model: 'lenet5', workers: 2 });
 * const batcher = new serve.Batcher(pool, { maxBatchSize: 8 });   // 2 batches in flight, one per worker
 * const logits = await batcher.infer(x);
 * await batcher.close(); await pool.close();
 */
export class Pool implements BatchEngine {
  readonly sampleShape: readonly number[];
  readonly fixedBatch = null;
  readonly concurrency: number;
  readonly inputName: string;
  readonly outputName: string;
  /** One sample's output shape (without the batch axis). */
  readonly outputShape: readonly number[];
  private closedFlag = false;

  private constructor(private readonly piscina: Piscina, info: PoolInfo, workers: number) {
    this.sampleShape = Object.freeze(info.sampleShape.slice());
    this.outputShape = Object.freeze(info.outputShape.slice());
    this.inputName = info.inputName;
    this.outputName = info.outputName;
    this.concurrency = workers;
  }

  /** Starts the workers and resolves once each has loaded the model and run a probe forward. */
  static async create(options: PoolOptions): Promise<Pool> {
    if (options === null || typeof options !== 'object') throw new TypeError(`serve.Pool: options must be an object, got ${describe(options)}`);
    const workers = options.workers ?? 2;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`serve.Pool: workers must be a positive integer, got ${describe(workers)}`);
    const threads = options.threads ?? Math.max(1, Math.floor(os.availableParallelism() / workers));
    const workerData: PoolWorkerData = { source: options.model, seed: options.seed, inputShape: options.inputShape, threads };
    const piscina = new Piscina({
      filename: options.workerFile ?? workerScript(),
      minThreads: workers, maxThreads: workers, concurrentTasksPerWorker: 1, idleTimeout: Infinity,
      workerData,
    });
    let infos: PoolInfo[];
    try {
      // One probe per worker: each loads the model when it starts; the probe waits for that.
      infos = await Promise.all(Array.from({ length: workers }, () => piscina.run({ kind: 'info' } satisfies PoolTask) as Promise<PoolInfo>));
    } catch (e) {
      await piscina.destroy();
      throw new Error(`serve.Pool: a worker failed to start: ${(e as Error).message}`);
    }
    return new Pool(piscina, infos[0], workers);
  }

  /** Runs one batch on a free worker; `data` is transferred (detached here) and must be a whole buffer. */
  async run(data: Float32Array, shape: readonly number[]): Promise<BatchOutput> {
    if (this.closedFlag) throw new ServeError('CLOSED', 'serve.Pool: the pool is closed');
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    const input = whole ? data : data.slice();
    const task: PoolTask = { kind: 'run', data: input, shape: shape.slice() };
    const out = await this.piscina.run(task, { transferList: [input.buffer as ArrayBuffer] }) as { data: Float32Array; shape: number[] };
    if (!(out.data instanceof Float32Array)) throw new Error(`serve.Pool: a worker returned ${describe(out.data)} for a batch of shape ${shapeStr(shape)}`);
    return { data: out.data, shape: out.shape };
  }

  /** Stops the workers (tasks still running are cancelled). Idempotent. */
  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    await this.piscina.destroy();
  }
}

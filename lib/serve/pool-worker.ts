/**
 * A pool worker (piscina): loads the model once, when the worker starts, then runs batches on its
 * own thread. The batch arrives transferred (no copy) and the output goes back transferred: only
 * the output's ownership moves, its array leaves the buffer pool for good.
 */
import { threadId } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { Tensor, unpool } from '../tensor';
import { noGrad } from '../autograd/tape';
import { setNumThreads } from '../backend/index';
import { loadServable, type Servable } from './models';
import { OnnxModel } from '../io/onnx/model';
import type { Module } from '../nn/module';

export interface PoolWorkerData {
  source: string;
  seed?: number;
  inputShape?: number[];
  /** Intra-op threads of this worker's forwards. */
  threads?: number;
}

export type PoolTask = { kind: 'info' } | { kind: 'run'; data: Float32Array; shape: number[] };

export interface PoolInfo {
  inputName: string;
  outputName: string;
  sampleShape: number[];
  outputShape: number[];
  threadId: number;
}

let servable: Servable | null = null;
let loadError: Error | null = null;
try {
  const wd = workerData as PoolWorkerData;
  if (wd.threads) setNumThreads(wd.threads);
  servable = loadServable(wd.source, { seed: wd.seed, inputShape: wd.inputShape });
} catch (e) {
  // Reported by every task, so the pool's start fails with the reason instead of a dead worker.
  loadError = e instanceof Error ? e : new Error(String(e));
}

function forward(s: Servable, x: Tensor): Tensor {
  return s.kind === 'onnx' ? (s.model as OnnxModel).run(x) : noGrad(() => (s.model as Module).call(x));
}

/** The output's array, ours alone: transferred as it is when it owns its whole buffer. */
function owned(y: Tensor): Float32Array {
  const d = y.data;
  if (d.byteOffset === 0 && d.byteLength === d.buffer.byteLength) {
    // Never handed to another op again: it is about to be detached by the transfer.
    unpool(d);
    return d;
  }
  return d.slice();
}

function transferred(value: { data: Float32Array; shape: readonly number[] }): unknown {
  return move({
    get [transferableSymbol]() { return [value.data.buffer]; },
    get [valueSymbol]() { return value; },
  } as never);
}

// eslint-disable-next-line import/no-default-export
export default function handle(task: PoolTask): unknown {
  if (loadError || !servable) throw new Error(`serve pool worker: the model did not load: ${loadError?.message}`);
  const s = servable;
  if (task.kind === 'info') {
    const probe = Tensor.wrap(new Float32Array(s.sampleShape.reduce((a, b) => a * b, 1)), [1, ...s.sampleShape]);
    const y = forward(s, probe);
    probe.dispose();
    const info: PoolInfo = {
      inputName: s.inputName, outputName: s.outputName, sampleShape: s.sampleShape,
      outputShape: y.shape.slice(1), threadId,
    };
    y.dispose();
    return info;
  }
  const x = Tensor.wrap(task.data, task.shape);
  let y: Tensor;
  try {
    y = forward(s, x);
  } finally {
    x.dispose();
  }
  const out = { data: owned(y), shape: y.shape.slice() };
  y.dispose();
  return transferred(out);
}

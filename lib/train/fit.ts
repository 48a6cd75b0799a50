/**
 * Mini-batch training: an epoch is one pass over the data in ceil(samples / batchSize)
 * iterations; each iteration runs forward, loss, backward and one optimiser step inside a tidy
 * scope, so memory stays flat across epochs.
 */
import { Tensor, tidy } from '../tensor';
import { noGrad } from '../autograd/tape';
import { describe, shapeStr } from '../errors';
import { rng } from '../random';
import * as ops from '../ops/index';
import { SGD } from '../optim/sgd';
import type { Optimizer } from '../optim/optimizer';
import { TrainStep } from './step';
import type { Module } from '../nn/module';

/** What fit needs of a model (nn.Module satisfies it). */
export interface Trainable {
  forward(x: Tensor): Tensor;
  parameters(): Tensor[];
  train(): unknown;
  eval(): unknown;
  readonly training: boolean;
}

export interface Dataset { x: Tensor; y: Int32Array }

export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
  iterations: number;
  samplesPerSecond: number;
}

export interface FitOptions {
  epochs: number;
  batchSize?: number;
  optimizer?: Optimizer;
  loss?: (logits: Tensor, targets: Int32Array) => Tensor;
  shuffle?: boolean;
  validation?: Dataset;
  onEpoch?: (stats: EpochStats) => void;
  /** Progress bar on a terminal (default: when stdout is a TTY). */
  progress?: boolean;
  /**
   * Full batches run as a compiled training step (lib/train/step.ts: the same numbers, one native
   * call per step) when the loss is the default cross-entropy and the optimiser SGD or Adam; the
   * last, shorter batch of an epoch runs eagerly. Default true; false runs every step eagerly.
   */
  compile?: boolean;
}

function checkDataset(op: string, name: string, d: unknown): { x: Tensor; y: Int32Array; n: number } {
  if (d === null || typeof d !== 'object') throw new TypeError(`${op}: '${name}' must be { x: Tensor, y: Int32Array }, got ${describe(d)}`);
  const { x, y } = d as Dataset;
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: '${name}.x' must be a Tensor, got ${describe(x)}`);
  if (x.disposed) throw new Error(`${op}: '${name}.x' is disposed`);
  if (!(y instanceof Int32Array)) throw new TypeError(`${op}: '${name}.y' must be an Int32Array of class indices, got ${describe(y)}`);
  if (x.rank < 2) throw new RangeError(`${op}: '${name}.x' must be [N, ...], got ${shapeStr(x.shape)}`);
  if (y.length !== x.shape[0]) throw new RangeError(`${op}: '${name}.y' has ${y.length} labels but x has ${x.shape[0]} samples`);
  return { x, y, n: x.shape[0] };
}

/** Copies samples idx[from..to) of x into out. */
function gatherInto(x: Tensor, idx: Int32Array | null, from: number, to: number, out: Float32Array): void {
  const per = x.size / x.shape[0];
  const d = x.data;
  for (let i = from; i < to; i++) {
    const s = idx ? idx[i] : i;
    out.set(d.subarray(s * per, (s + 1) * per), (i - from) * per);
  }
}

/** Copies samples idx[from..to) of x into a new batch tensor. */
function gather(x: Tensor, idx: Int32Array | null, from: number, to: number): Tensor {
  const out = new Float32Array((to - from) * (x.size / x.shape[0]));
  gatherInto(x, idx, from, to, out);
  return Tensor.wrap(out, [to - from, ...x.shape.slice(1)]);
}

function correct(logits: Tensor, y: Int32Array, idx: Int32Array | null, from: number): number {
  return correctOf(logits.data, logits.shape[0], y, idx, from);
}

/** How many of the B rows of logits d [B, K] pick the label y[idx[from + b]]. */
function correctOf(d: Float32Array, B: number, y: Int32Array, idx: Int32Array | null, from: number): number {
  const K = d.length / B;
  let c = 0;
  for (let b = 0; b < B; b++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (d[b * K + k] > d[b * K + best]) best = k;
    if (best === y[idx ? idx[from + b] : from + b]) c++;
  }
  return c;
}

/** Loss and accuracy of a classifier on a dataset, in eval mode without a tape. */
export function evaluate(model: Trainable, data: Dataset, o: { batchSize?: number; loss?: FitOptions['loss'] } = {}): { loss: number; accuracy: number } {
  const { x, y, n } = checkDataset('evaluate', 'data', data);
  const batchSize = o.batchSize ?? 256;
  const lossFn = o.loss ?? ops.crossEntropy;
  const wasTraining = model.training;
  model.eval();
  let lossSum = 0, hits = 0;
  try {
    for (let from = 0; from < n; from += batchSize) {
      const to = Math.min(n, from + batchSize);
      tidy(() => noGrad(() => {
        const logits = model.forward(gather(x, null, from, to));
        lossSum += lossFn(logits, y.subarray(from, to)).item() * (to - from);
        hits += correct(logits, y, null, from);
      }));
    }
  } finally {
    if (wasTraining) model.train();
  }
  return { loss: lossSum / n, accuracy: hits / n };
}

type Bar = { start(total: number, value: number, payload?: object): void; update(v: number, payload?: object): void; stop(): void };

function makeBar(enabled: boolean): Bar | null {
  if (!enabled) return null;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const cliProgress = require('cli-progress');
  return new cliProgress.SingleBar({
    format: 'epoch {epoch} |{bar}| {value}/{total} it | loss {loss} | acc {acc} | {rate} samples/s',
    hideCursor: true,
    clearOnComplete: false,
  }, cliProgress.Presets.shades_classic) as Bar;
}

/**
 * Trains a classifier by mini-batch gradient descent.
 * @example const history = fit(model, { x, y }, { epochs: 5, batchSize: 64, optimizer: new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }) });
 */
export function fit(model: Trainable, data: Dataset, o: FitOptions): EpochStats[] {
  const op = 'fit';
  if (model === null || typeof model !== 'object' || typeof (model as Trainable).forward !== 'function') {
    throw new TypeError(`${op}: model must be a Module, got ${describe(model)}`);
  }
  const { x, y, n } = checkDataset(op, 'data', data);
  if (o === null || typeof o !== 'object') throw new TypeError(`${op}: options must be an object with epochs, got ${describe(o)}`);
  const epochs = o.epochs;
  if (typeof epochs !== 'number' || !Number.isInteger(epochs) || epochs < 1) throw new RangeError(`${op}: 'epochs' must be a positive integer, got ${String(epochs)}`);
  const batchSize = o.batchSize ?? 32;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`${op}: 'batchSize' must be a positive integer, got ${String(batchSize)}`);
  }
  const validation = o.validation ? checkDataset(op, 'validation', o.validation) : null;
  const optimizer = o.optimizer ?? new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const lossFn = o.loss ?? ops.crossEntropy;
  const shuffle = o.shuffle ?? true;
  const iterations = Math.ceil(n / batchSize);
  const bar = makeBar(o.progress ?? Boolean(process.stdout.isTTY));
  const history: EpochStats[] = [];
  const idx = new Int32Array(n);
  const compiled = (o.compile ?? true) && o.loss === undefined && n >= batchSize && typeof (model as Module).modules === 'function'
    ? new TrainStep(model as Module, optimizer, [batchSize, ...x.shape.slice(1)]) : null;
  const batchX = compiled ? new Float32Array(x.size / n * batchSize) : null;
  const batchY = compiled ? new Int32Array(batchSize) : null;
  model.train();
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      for (let i = 0; i < n; i++) idx[i] = i;
      if (shuffle) {
        const r = rng();
        for (let i = n - 1; i > 0; i--) { const j = r.int(i + 1); const t = idx[i]; idx[i] = idx[j]; idx[j] = t; }
      }
      const t0 = performance.now();
      let lossSum = 0, hits = 0;
      bar?.start(iterations, 0, { epoch, loss: '-', acc: '-', rate: '-' });
      for (let it = 0; it < iterations; it++) {
        const from = it * batchSize, to = Math.min(n, from + batchSize);
        if (compiled && to - from === batchSize) {
          gatherInto(x, idx, from, to, batchX!);
          for (let i = from; i < to; i++) batchY![i - from] = y[idx[i]];
          lossSum += compiled.runData(op, batchX!, batchY!) * batchSize;
          hits += correctOf(compiled.lastLogits(), batchSize, y, idx, from);
        } else tidy(() => {
          const logits = model.forward(gather(x, idx, from, to));
          const targets = new Int32Array(to - from);
          for (let i = from; i < to; i++) targets[i - from] = y[idx[i]];
          const loss = lossFn(logits, targets);
          optimizer.zeroGrad();
          loss.backward();
          optimizer.step();
          lossSum += loss.item() * (to - from);
          hits += correct(logits, y, idx, from);
        });
        if (bar) {
          const seen = to;
          bar.update(it + 1, {
            epoch, loss: (lossSum / seen).toFixed(4), acc: (hits / seen).toFixed(4),
            rate: Math.round(seen / ((performance.now() - t0) / 1000)),
          });
        }
      }
      bar?.stop();
      const seconds = (performance.now() - t0) / 1000;
      const stats: EpochStats = { epoch, loss: lossSum / n, accuracy: hits / n, seconds, iterations, samplesPerSecond: n / seconds };
      if (validation) {
        const v = evaluate(model, validation, { batchSize: Math.max(batchSize, 256), loss: lossFn });
        stats.valLoss = v.loss;
        stats.valAccuracy = v.accuracy;
      }
      history.push(stats);
      o.onEpoch?.(stats);
    }
  } finally {
    compiled?.dispose();
  }
  optimizer.zeroGrad();
  return history;
}

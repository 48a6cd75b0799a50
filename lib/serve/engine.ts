/**
 * What the Batcher needs from a model: run one batch of rows and hand back the output rows. One
 * adapter per kind of model simdcnn has (nn Module, CompiledModule, OnnxModel), and the same
 * interface for a worker pool (pool.ts) and for onnxruntime-node (ort-engine.ts), so the batcher
 * and the server do not care what computes.
 */
import { Tensor } from '../tensor';
import { Module } from '../nn/module';
import { CompiledModule } from '../nn/compiled';
import { OnnxModel } from '../io/onnx/model';

/** One batch's output: `shape[0]` rows (at least the rows sent), row-major in `data`. */
export interface BatchOutput {
  data: Float32Array;
  shape: readonly number[];
  /** Called once the rows have been copied out (frees the output tensor). */
  release?(): void;
}

/**
 * A model as the Batcher drives it.
 * @example
 * const engine: serve.BatchEngine = { sampleShape: [4], fixedBatch: null,
 *   async run(data, shape) { return { data: data.map((v) => 2 * v), shape }; } };
 */
export interface BatchEngine {
  /**
   * The shape of one sample without the batch axis; a null entry takes any size there. null: not
   * known in advance (an nn Module), so requests are grouped by shape and a shape the model cannot
   * take fails only the requests of that shape.
   */
  readonly sampleShape: readonly (number | null)[] | null;
  /** A batch size the engine always runs (a CompiledModule's): shorter batches are padded with zeros. */
  readonly fixedBatch: number | null;
  /** Batches that may run at the same time (a pool: its workers). Default 1. */
  readonly concurrency?: number;
  /** Runs `shape[0]` samples held row-major in `data` (the engine may keep or transfer `data`). */
  run(data: Float32Array, shape: readonly number[]): Promise<BatchOutput>;
}

function fromTensor(y: Tensor): BatchOutput {
  return { data: y.data, shape: y.shape, release: () => y.dispose() };
}

/** An nn Module in eval mode, run by forwardAsync (the arithmetic on a worker thread). */
export function moduleEngine(model: Module): BatchEngine {
  if (model.modules().some((m) => m.training)) {
    throw new Error('Batcher: the module is in training mode; call eval() first (batch statistics and dropout would mix the rows of different requests)');
  }
  return {
    sampleShape: null,
    fixedBatch: null,
    async run(data, shape) {
      const x = Tensor.wrap(data, shape);
      try {
        return fromTensor(await model.forwardAsync(x));
      } finally {
        x.dispose();
      }
    },
  };
}

/** A CompiledModule: it runs the batch it was compiled for, so partial batches are padded. */
export function compiledEngine(model: CompiledModule): BatchEngine {
  const s = model.inputShape;
  return {
    sampleShape: s.slice(1),
    fixedBatch: s[0],
    async run(data, shape) {
      const x = Tensor.wrap(data, shape);
      try {
        // forwardAsync copies x before it returns, so x may go at once.
        const y = model.forwardAsync(x);
        return fromTensor(await y);
      } finally {
        x.dispose();
      }
    },
  };
}

/** An OnnxModel with one input and one output, run by runAsync (one plan per batch size). */
export function onnxEngine(model: OnnxModel): BatchEngine {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(`Batcher: an ONNX model with one input and one output is needed, this one has inputs (${model.inputs.map((i) => i.name).join(', ')}) and outputs (${model.outputs.map((o) => o.name).join(', ')})`);
  }
  const dims = model.inputs[0].shape;
  const batchDim = dims?.[0];
  return {
    sampleShape: dims ? dims.slice(1).map((d) => (typeof d === 'number' && d > 0 ? d : null)) : null,
    fixedBatch: typeof batchDim === 'number' && batchDim > 0 ? batchDim : null,
    async run(data, shape) {
      const x = Tensor.wrap(data, shape);
      try {
        return fromTensor(await model.runAsync(x));
      } finally {
        x.dispose();
      }
    },
  };
}

export function isBatchEngine(v: unknown): v is BatchEngine {
  return v !== null && typeof v === 'object' && typeof (v as BatchEngine).run === 'function' && 'sampleShape' in v && 'fixedBatch' in v;
}

/** The adapter for whatever model was passed. */
export function engineFor(model: unknown): BatchEngine {
  if (model instanceof Module) return moduleEngine(model);
  if (model instanceof CompiledModule) return compiledEngine(model);
  if (model instanceof OnnxModel) return onnxEngine(model);
  if (isBatchEngine(model)) return model;
  const got = model === null ? 'null' : typeof model === 'object' ? (model as object).constructor?.name ?? 'an object' : typeof model;
  throw new TypeError(`Batcher: model must be an nn Module, a CompiledModule, an OnnxModel or a BatchEngine, got ${got}`);
}

/** '[1,28,28]' with '?' for free dims. */
export function sampleShapeStr(s: readonly (number | null)[]): string {
  return `[${s.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

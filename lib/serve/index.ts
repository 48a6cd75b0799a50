/**
 * serve: simdcnn as an inference service. The Batcher (concurrent single requests share one
 * batched forward), a worker Pool for multi-core serving, and an HTTP server speaking the Open
 * Inference Protocol (KServe v2), also run by the `simdcnn-serve` bin.
 * @example
 * const batcher = new serve.Batcher(models.lenet5().eval(), { maxBatchSize: 8, maxQueueDelayMs: 2 });
 * const y = await batcher.infer(x); // x: [1, 1, 28, 28] -> y: [1, 10]
 */
export { Batcher } from './batcher';
export type { BatcherOptions, BatchInfo, InferOptions } from './batcher';
export { ServeError } from './errors';
export type { ServeErrorCode } from './errors';
export { moduleEngine, compiledEngine, onnxEngine } from './engine';
export type { BatchEngine, BatchOutput } from './engine';
export { Pool } from './pool';
export type { PoolOptions } from './pool';
export { OrtEngine } from './ort-engine';
export type { OrtEngineOptions } from './ort-engine';
export { startServer, InferenceServer } from './server';
export type { ServerOptions } from './server';
export { loadServable, BUILTIN_MODELS } from './models';
export type { Servable, ModelSourceOptions } from './models';

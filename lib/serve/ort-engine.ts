/**
 * The server's engine on onnxruntime-node instead of simdcnn: the same Batcher, protocol and model
 * file, another runtime, so the load test compares engines and nothing else. onnxruntime-node is
 * only a devDependency of simdcnn, so it is required when an OrtEngine is made, never at load.
 */
import * as os from 'node:os';
import type { BatchEngine, BatchOutput } from './engine';

/** The part of onnxruntime-node's API used here (its types are not a dependency of simdcnn's). */
interface OrtTensor { data: unknown; dims: readonly number[] }
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtModule {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession> };
}

export interface OrtEngineOptions {
  /** One sample's shape (without the batch axis). */
  sampleShape: readonly number[];
  /** intraOpNumThreads (default: the cores, as simdcnn's default). */
  threads?: number;
  /**
   * Whether ORT's intra-op workers spin after each run (ORT's own default: true). Default false
   * here: in a server the spinning workers take the cores the HTTP thread (and, on one machine,
   * the load generator) needs between runs.
   */
  spinning?: boolean;
}

/**
 * A BatchEngine running an ONNX model on onnxruntime-node (CPU execution provider, graph
 * optimisation 'all', sequential execution: how every bench here configures ORT), its intra-op
 * workers not spinning between runs unless `spinning` is set.
 * @example const engine = await serve.OrtEngine.create(bytes, { sampleShape: [1, 28, 28] }); new serve.Batcher(engine);
 */
export class OrtEngine implements BatchEngine {
  readonly fixedBatch = null;
  readonly sampleShape: readonly number[];

  private constructor(private readonly ort: OrtModule, private readonly session: OrtSession, sampleShape: readonly number[]) {
    this.sampleShape = Object.freeze(sampleShape.slice());
  }

  static async create(onnx: Uint8Array, options: OrtEngineOptions): Promise<OrtEngine> {
    let ort: OrtModule;
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      ort = require('onnxruntime-node') as OrtModule;
    } catch (e) {
      throw new Error(`serve: --engine ort needs onnxruntime-node (npm install onnxruntime-node): ${(e as Error).message.split('\n')[0]}`);
    }
    const session = await ort.InferenceSession.create(onnx, {
      intraOpNumThreads: options.threads ?? os.availableParallelism(), interOpNumThreads: 1,
      executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential',
      ...(options.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    });
    if (session.inputNames.length !== 1 || session.outputNames.length !== 1) {
      await session.release();
      throw new Error(`serve: onnxruntime-node found ${session.inputNames.length} inputs and ${session.outputNames.length} outputs; one of each is needed`);
    }
    return new OrtEngine(ort, session, options.sampleShape);
  }

  async run(data: Float32Array, shape: readonly number[]): Promise<BatchOutput> {
    const x = new this.ort.Tensor('float32', data, shape);
    const r = await this.session.run({ [this.session.inputNames[0]]: x });
    const y = r[this.session.outputNames[0]];
    if (!(y.data instanceof Float32Array)) throw new Error('serve: onnxruntime-node returned a non-float32 output');
    return { data: y.data, shape: y.dims };
  }

  close(): Promise<void> {
    return this.session.release();
  }
}

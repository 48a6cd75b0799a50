/** onnxruntime-node (CPU execution provider), fed the ONNX export of the same state dict. */
import type { Tensor } from '../../lib/index';
import { io } from '../../lib/index';
import type { BenchCase, Engine, Runner } from './types';

type Ort = typeof import('onnxruntime-node');

let ortMod: Ort | null | undefined;
let ortErr = '';

function ort(): Ort | null {
  if (ortMod === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      ortMod = require('onnxruntime-node') as Ort;
    } catch (e) {
      ortMod = null;
      ortErr = (e as Error).message.split('\n')[0];
    }
  }
  return ortMod;
}

/** The ONNX bytes of a workload built from its simdcnn state dict (torchvision keys). */
export function onnxBytes(c: Pick<BenchCase, 'workload'>, weights: Record<string, Tensor>): Uint8Array {
  const f = io.onnxFromStateDict;
  switch (c.workload.name) {
    case 'conv3x3': return f.conv(weights.weight, weights.bias, { padding: 1 });
    case 'lenet5': return f.lenet5(weights);
    case 'resnet18': return f.resnet18(weights);
    case 'alexnet': return f.alexnet(weights);
  }
}

export interface OrtSessionOptions {
  /**
   * Whether ORT's intra-op pool workers spin after a parallel section (its default, true). With
   * more than one thread and another engine timed in the same process, spinning workers take a
   * core from that engine's run; false sets the session config key
   * 'session.intra_op.allow_spinning' = '0' (which onnxruntime-node passes on through `extra`).
   */
  spinning?: boolean;
}

/**
 * An InferenceSession configured as every bench here configures ORT: CPU execution provider,
 * graphOptimizationLevel 'all', intraOpNumThreads = threads, interOpNumThreads 1 (sequential).
 */
export async function ortSession(
  model: Uint8Array | string, threads: number, opts: OrtSessionOptions = {},
): Promise<import('onnxruntime-node').InferenceSession> {
  const o = ort();
  if (!o) throw new Error(`onnxruntime-node not installed (${ortErr})`);
  const options: import('onnxruntime-node').InferenceSession.SessionOptions = {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'],
    graphOptimizationLevel: 'all', executionMode: 'sequential',
  };
  if (opts.spinning === false) options.extra = { session: { intra_op: { allow_spinning: '0' } } };
  // A Uint8Array and a path take different overloads of create().
  return typeof model === 'string' ? o.InferenceSession.create(model, options) : o.InferenceSession.create(model, options);
}

export function ortVersion(): string {
  const o = ort();
  return o ? String((o.env as { versions?: { common?: string } }).versions?.common ?? '') : '';
}

export const onnxruntime: Engine = {
  name: 'onnxruntime-node',
  threaded: true,
  note: 'onnxruntime-node: CPU EP, graphOptimizationLevel all, intraOpNumThreads = threads, interOpNumThreads 1.',
  available: () => (ort() ? true : `onnxruntime-node not installed (${ortErr})`),
  async prepare(c, weights): Promise<Runner> {
    const o = ort()!;
    const session = await ortSession(onnxBytes(c, weights), c.threads);
    const x = new o.Tensor('float32', c.input, [c.batch, ...c.workload.input]);
    const inName = session.inputNames[0], outName = session.outputNames[0];
    return {
      async run() {
        const r = await session.run({ [inName]: x });
        return r[outName].data as Float32Array;
      },
      async dispose() { await session.release(); },
    };
  },
};

/** The onnxruntime-node module itself (null when it is not installed; see onnxruntime.available()). */
export { ort as ortModule };

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
    const session = await o.InferenceSession.create(onnxBytes(c, weights), {
      intraOpNumThreads: c.threads, interOpNumThreads: 1, executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
    });
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

/** simdcnn itself: the native SIMD core (sync and forwardAsync) and the pure-TS 'js' backend. */
import { Tensor, tensor, noGrad, tidy, setBackend, setNumThreads } from '../../lib/index';
import type { BenchCase, Engine, Runner } from './types';

function load(c: BenchCase, weights: Record<string, Tensor>) {
  const model = c.workload.model();
  model.loadStateDict(weights);
  model.eval();
  const x = tensor(c.input, [c.batch, ...c.workload.input]);
  return { model, x };
}

/**
 * A synchronous planned forward on the native backend (Winograd off when directOnly): through
 * model.compile(shape) (one addon call per forward), or module.call when eager.
 */
async function nativeSync(c: BenchCase, weights: Record<string, Tensor>, directOnly: boolean, eager = false): Promise<Runner> {
  setBackend('native');
  setNumThreads(c.threads);
  const { model, x } = load(c, weights);
  if (directOnly) model.setFastInference(true, { winograd: false });
  const compiled = eager ? null : model.compile(x.shape);
  // The output is read through t.data (no copy), as onnxruntime-node's results are read through
  // their .data; the tensor lives until the next run, the harness copies what it keeps.
  let prev: Tensor | null = null;
  return {
    run() {
      prev?.dispose();
      prev = compiled ? compiled.call(x) : noGrad(() => tidy(() => model.call(x)));
      return prev.data;
    },
    dispose() { prev?.dispose(); compiled?.dispose(); x.dispose(); model.dispose(); },
  };
}

export const simdcnnNative: Engine = {
  name: 'simdcnn native',
  threaded: true,
  note: "simdcnn native: model.eval().compile(inputShape).call(x), the planned forward replayed by one addon call (bit-identical to model.call under noGrad); 'simdcnn native eager' runs model.call(x) under noGrad, one addon call per layer.",
  available: () => true,
  prepare: (c, weights) => nativeSync(c, weights, false),
};

export const simdcnnNativeEager: Engine = {
  name: 'simdcnn native eager',
  threaded: true,
  available: () => true,
  applies: (c) => c.workload.name === 'lenet5' || c.workload.name === 'resnet18',
  prepare: (c, weights) => nativeSync(c, weights, false, true),
};

export const simdcnnNativeDirect: Engine = {
  name: 'simdcnn native direct',
  threaded: true,
  note: "simdcnn native direct: the same planned path with Winograd off (setFastInference(true, { winograd: false })): every convolution runs the direct algorithm, so its GFLOP/s are real FMA throughput. The default 'simdcnn native' row may use Winograd (F(4x4,3x3) or F(2x2,3x3)) for 3x3 stride-1 layers: its GFLOP/s there are effective (direct FLOPs / time).",
  available: () => true,
  applies: (c) => c.workload.name === 'conv3x3' || c.workload.name === 'resnet18',
  prepare: (c, weights) => nativeSync(c, weights, true),
};

export const simdcnnNativeAsync: Engine = {
  name: 'simdcnn native forwardAsync',
  threaded: true,
  available: () => true,
  applies: (c) => c.workload.name === 'resnet18' && c.batch === 1,
  async prepare(c, weights): Promise<Runner> {
    setBackend('native');
    setNumThreads(c.threads);
    const { model, x } = load(c, weights);
    let prev: Tensor | null = null;
    return {
      async run() {
        prev?.dispose();
        prev = await model.forwardAsync(x);
        return prev.data;
      },
      dispose() { prev?.dispose(); x.dispose(); model.dispose(); },
    };
  },
};

export const simdcnnJs: Engine = {
  name: 'simdcnn js',
  threaded: false,
  note: "simdcnn js: the pure-TypeScript reference backend (setBackend('js')), single-threaded.",
  available: () => true,
  async prepare(c, weights): Promise<Runner> {
    const { model, x } = load(c, weights);
    return {
      run() {
        setBackend('js');
        try {
          const y = noGrad(() => tidy(() => model.call(x)));
          const out = y.toArray();
          y.dispose();
          return out;
        } finally {
          setBackend('native');
        }
      },
      dispose() { x.dispose(); model.dispose(); },
    };
  },
};

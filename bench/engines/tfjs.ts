/**
 * TensorFlow.js: the pure-JS 'cpu' backend and the 'wasm' backend (XNNPACK, SIMD), running graphs
 * built from the same state dict. tfjs is NHWC: OIHW weights become HWIO, the NCHW input is
 * transposed once in prepare, and the feature maps go back to NCHW before each flatten so the
 * classifier sees PyTorch's order. Both backends run single-threaded in Node (see the notes).
 */
import * as path from 'path';
import type { Tensor } from '../../lib/index';
import type { BenchCase, Engine, Runner } from './types';

type TF = typeof import('@tensorflow/tfjs');
type TFT = import('@tensorflow/tfjs').Tensor;
type T4 = import('@tensorflow/tfjs').Tensor4D;
type T2 = import('@tensorflow/tfjs').Tensor2D;
type Wasm = typeof import('@tensorflow/tfjs-backend-wasm');

let tfMod: TF | null | undefined;
let tfErr = '';
let wasmMod: Wasm | null | undefined;
let wasmErr = '';

function tfjs(): TF | null {
  if (tfMod === undefined) {
    // tfjs greets Node users with a hint to install tfjs-node; keep the bench output clean.
    const warn = console.warn, log = console.log;
    console.warn = () => {}; console.log = () => {};
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      tfMod = require('@tensorflow/tfjs') as TF;
      tfMod.enableProdMode();
    } catch (e) {
      tfMod = null;
      tfErr = (e as Error).message.split('\n')[0];
    } finally {
      console.warn = warn; console.log = log;
    }
  }
  return tfMod;
}

function wasm(): Wasm | null {
  if (wasmMod === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      wasmMod = require('@tensorflow/tfjs-backend-wasm') as Wasm;
      const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
      wasmMod.setWasmPaths(path.join(dir, 'dist') + path.sep);
    } catch (e) {
      wasmMod = null;
      wasmErr = (e as Error).message.split('\n')[0];
    }
  }
  return wasmMod;
}

export function tfjsVersion(): string {
  return tfjs()?.version.tfjs ?? '';
}

/** What the wasm backend reports about itself once initialised. */
export function wasmInfo(): { simd: boolean; multithread: boolean; threads: number } | null {
  const tf = tfjs(), w = wasm();
  if (!tf || !w || tf.getBackend() !== 'wasm') return null;
  return {
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    multithread: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
    threads: w.getThreadsCount(),
  };
}

type Params = Record<string, TFT>;

/** The state dict as tfjs tensors: conv weights HWIO, linear weights [in, out], vectors as is. */
function toTf(tf: TF, weights: Record<string, Tensor>): Params {
  const p: Params = {};
  for (const [k, t] of Object.entries(weights)) {
    if (k.endsWith('num_batches_tracked')) continue;
    const raw = tf.tensor(t.toArray(), t.shape.slice());
    if (t.rank === 4) { p[k] = tf.transpose(raw, [2, 3, 1, 0]); raw.dispose(); }
    else if (t.rank === 2) { p[k] = tf.transpose(raw, [1, 0]); raw.dispose(); }
    else p[k] = raw;
  }
  return p;
}

function graph(tf: TF, name: BenchCase['workload']['name'], P: Params): (x: T4) => TFT {
  const conv = (x: T4, key: string, stride: number, pad: number, relu: boolean): T4 =>
    tf.fused.conv2d({
      x, filter: P[`${key}.weight`] as T4, strides: stride, pad, bias: P[`${key}.bias`],
      activation: relu ? 'relu' : 'linear',
    });
  const bn = (x: T4, key: string): T4 =>
    tf.batchNorm(x, P[`${key}.running_mean`], P[`${key}.running_var`], P[`${key}.bias`], P[`${key}.weight`], 1e-5) as T4;
  const linear = (x: T2, key: string, relu: boolean): T2 =>
    tf.fused.matMul({ a: x, b: P[`${key}.weight`] as T2, bias: P[`${key}.bias`], activation: relu ? 'relu' : 'linear' }) as T2;
  // Back to NCHW before flattening: PyTorch's flatten order is (C, H, W).
  const flattenNCHW = (x: T4): T2 => tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [x.shape[0], -1]) as T2;
  const maxPool = (x: T4, k: number, s: number): T4 => tf.maxPool(x, k, s, 'valid');

  switch (name) {
    case 'conv3x3':
      return (x) => tf.fused.conv2d({ x, filter: P.weight as T4, strides: 1, pad: 1, bias: P.bias });
    case 'lenet5':
      return (x) => {
        let y = maxPool(conv(x, 'features.0', 1, 2, true), 2, 2);
        y = maxPool(conv(y, 'features.3', 1, 0, true), 2, 2);
        let z = flattenNCHW(y);
        z = linear(z, 'classifier.0', true);
        z = linear(z, 'classifier.2', true);
        return linear(z, 'classifier.4', false);
      };
    case 'alexnet':
      return (x) => {
        let y = maxPool(conv(x, 'features.0', 4, 2, true), 3, 2);
        y = maxPool(conv(y, 'features.3', 1, 2, true), 3, 2);
        y = conv(y, 'features.6', 1, 1, true);
        y = conv(y, 'features.8', 1, 1, true);
        y = maxPool(conv(y, 'features.10', 1, 1, true), 3, 2);
        // AdaptiveAvgPool2d(6) is the identity at 224x224 (the features end at 6x6).
        let z = flattenNCHW(y);
        z = linear(z, 'classifier.1', true);
        z = linear(z, 'classifier.4', true);
        return linear(z, 'classifier.6', false);
      };
    case 'resnet18':
      return (x) => {
        let y = tf.relu(bn(conv(x, 'conv1', 2, 3, false), 'bn1'));
        // PyTorch's max pool pads with -inf (padded cells never win).
        y = maxPool(tf.pad(y, [[0, 0], [1, 1], [1, 1], [0, 0]], -Infinity), 3, 2);
        for (let l = 1; l <= 4; l++) {
          for (let b = 0; b < 2; b++) {
            const p = `layer${l}.${b}`;
            const stride = l > 1 && b === 0 ? 2 : 1;
            let o = tf.relu(bn(conv(y, `${p}.conv1`, stride, 1, false), `${p}.bn1`));
            o = bn(conv(o, `${p}.conv2`, 1, 1, false), `${p}.bn2`);
            const sc = P[`${p}.downsample.0.weight`] ? bn(conv(y, `${p}.downsample.0`, stride, 0, false), `${p}.downsample.1`) : y;
            y = tf.relu(tf.add(o, sc)) as T4;
          }
        }
        const pooled = tf.mean(y, [1, 2]) as T2;
        return linear(pooled, 'fc', false);
      };
  }
}

function makeEngine(backend: 'cpu' | 'wasm'): Engine {
  return {
    name: `tfjs ${backend}`,
    threaded: false,
    note: backend === 'cpu'
      ? 'tfjs cpu: the pure-JS backend, single-threaded by design.'
      : 'tfjs wasm: XNNPACK; in Node the backend reports no multithread support (WASM_HAS_MULTITHREAD_SUPPORT false), so setThreadsCount has no effect and it runs single-threaded.',
    available() {
      if (!tfjs()) return `@tensorflow/tfjs not installed (${tfErr})`;
      if (backend === 'wasm' && !wasm()) return `@tensorflow/tfjs-backend-wasm not installed (${wasmErr})`;
      return true;
    },
    async prepare(c, weights): Promise<Runner> {
      const tf = tfjs()!;
      if (backend === 'wasm') wasm();
      if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend '${backend}' failed to initialise`);
      await tf.ready();
      const P = toTf(tf, weights);
      const [C, H, W] = c.workload.input;
      const nchw = tf.tensor4d(c.input, [c.batch, C, H, W]);
      const x = tf.transpose(nchw, [0, 2, 3, 1]) as T4;
      nchw.dispose();
      const fwd = graph(tf, c.workload.name, P);
      const runner: Runner = {
        async run() {
          if (tf.getBackend() !== backend) await tf.setBackend(backend);
          const y = tf.tidy(() => fwd(x));
          const out = (await y.data()) as Float32Array;
          y.dispose();
          return out;
        },
        dispose() {
          x.dispose();
          for (const t of Object.values(P)) t.dispose();
        },
      };
      if (c.workload.name === 'conv3x3') runner.outputNHWC = [c.batch, H, W, 64];
      return runner;
    },
  };
}

export const tfjsCpu = makeEngine('cpu');
export const tfjsWasm = makeEngine('wasm');

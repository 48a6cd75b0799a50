/**
 * Issue 4's training benchmark: LeNet-5 training samples/s (batch 64, SGD momentum 0.9) for
 * simdcnn native (1 and 2 threads), simdcnn js, tfjs cpu (on a small subset: it is slow) and
 * PyTorch on CPU (Debian's python3-torch, same network/batch/optimiser, torch.set_num_threads
 * matched). Medians over repeats, printed as ratios against simdcnn native.
 *   npx tsc -p tsconfig.json && node dist/bench/train.js [--repeats 5] [--iters 40]
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { models, optim, ops, randn, setBackend, setNumThreads, tidy, manualSeed, cpuInfo, Tensor } from '../lib/index';
import { packageRoot } from '../lib/backend/loader';
import { median, table } from './util';

function argNum(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const repeats = argNum('repeats', 5);
const iters = argNum('iters', 40);
const B = 64;

function simdcnnSamplesPerSecond(backend: 'native' | 'js', threads: number, nIters: number, nRepeats: number): number {
  setBackend(backend);
  if (backend === 'native') setNumThreads(threads);
  manualSeed(0);
  const model = models.lenet5({ inputSize: 28 });
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const xs: Tensor[] = [], ys: Int32Array[] = [];
  for (let i = 0; i < nIters; i++) {
    xs.push(randn([B, 1, 28, 28], { seed: i }));
    ys.push(Int32Array.from({ length: B }, (_, j) => (i * 7 + j) % 10));
  }
  const epoch = () => {
    for (let i = 0; i < nIters; i++) {
      tidy(() => {
        opt.zeroGrad();
        const loss = ops.crossEntropy(model.forward(xs[i]), ys[i]);
        loss.backward();
        opt.step();
      });
    }
  };
  epoch();
  const times: number[] = [];
  for (let r = 0; r < nRepeats; r++) {
    const t0 = performance.now();
    epoch();
    times.push((performance.now() - t0) / 1000);
  }
  xs.forEach((x) => x.dispose());
  opt.zeroGrad();
  model.dispose();
  setBackend('native');
  return (nIters * B) / median(times);
}

async function tfjsSamplesPerSecond(nIters: number, nRepeats: number): Promise<number | string> {
  let tf: typeof import('@tensorflow/tfjs');
  try {
    tf = require('@tensorflow/tfjs');
  } catch {
    return 'not installed';
  }
  await tf.setBackend('cpu');
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 120, activation: 'relu' }),
      tf.layers.dense({ units: 84, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
  const opt = tf.train.momentum(0.01, 0.9);
  const x = tf.randomNormal([B, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, j) => j % 10), 'int32'), 10);
  const step = () => tf.tidy(() => {
    opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.predict(x) as import('@tensorflow/tfjs').Tensor) as import('@tensorflow/tfjs').Scalar);
  });
  step();
  const times: number[] = [];
  for (let r = 0; r < nRepeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < nIters; i++) step();
    times.push((performance.now() - t0) / 1000);
  }
  return (nIters * B) / median(times);
}

function torchSamplesPerSecond(threads: number): number | string {
  const script = path.join(packageRoot(), 'bench', 'torch_train.py');
  try {
    const out = execFileSync('/usr/bin/python3', [script, String(threads), String(iters), String(repeats)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out.trim().split('\n').pop()!).samplesPerSecond;
  } catch (e) {
    return `unavailable (${(e as Error).message.split('\n')[0]}); apt-get install python3-torch`;
  }
}

async function main(): Promise<void> {
  console.log(`LeNet-5 training, batch ${B}, SGD momentum 0.9, ${iters} iterations x ${repeats} repeats (medians); cpu ${cpuInfo().isa}`);
  const rows: (string | number)[][] = [['engine', 'threads', 'samples/s', 'simdcnn native / engine']];
  const results: Record<string, unknown>[] = [];
  const native: Record<number, number> = {};
  for (const t of [1, 2]) native[t] = simdcnnSamplesPerSecond('native', t, iters, repeats);
  const add = (engine: string, threads: number, sps: number | string) => {
    const ratio = typeof sps === 'number' ? (native[threads] / sps).toFixed(2) : '';
    rows.push([engine, threads, typeof sps === 'number' ? Math.round(sps) : sps, ratio]);
    results.push({ engine, threads, samplesPerSecond: sps });
  };
  for (const t of [1, 2]) add('simdcnn native', t, native[t]);
  add('simdcnn js', 1, simdcnnSamplesPerSecond('js', 1, Math.max(2, Math.floor(iters / 10)), Math.min(repeats, 3)));
  for (const t of [1, 2]) add('pytorch (python3-torch)', t, torchSamplesPerSecond(t));
  add('tfjs cpu (pure JS)', 1, await tfjsSamplesPerSecond(2, Math.min(repeats, 3)));
  console.log(table(rows));
  const outDir = path.join(packageRoot(), 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'train.json'), JSON.stringify({ date: new Date().toISOString(), batch: B, iters, repeats, results }, null, 2));
}

main();

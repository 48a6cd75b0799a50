/**
 * Training speed, side by side in one run: simdcnn native (the compiled step fit runs, and the eager
 * loop) against PyTorch (Debian's python3-torch, a worker process kept alive for the whole run) on the
 * same network, batch and optimiser (SGD, momentum 0.9, cross-entropy, random data), engines
 * interleaved in alternating blocks (the order flips every round), medians of the per-block
 * samples/s, printed as ratios against the compiled step; simdcnn js and tfjs cpu (pure JS)
 * join the LeNet-5 rotation at one thread, for the record. Afterwards PyTorch runs on its own, in its
 * own process with nothing else alive, as a check that the interleaving does not handicap it.
 *   npx tsc -p tsconfig.json && node dist/bench/train.js [--rounds 7] [--workloads lenet5,resnet18]
 *     [--threads 1,2] [--no-alone]
 */
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import {
  models, optim, ops, randn, setBackend, setNumThreads, tidy, manualSeed, cpuInfo, compileTrainStep, type Tensor,
} from '../lib/index';
import type { Module } from '../lib/nn/module';
import { packageRoot } from '../lib/backend/loader';
import { median, table } from './util';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const rounds = Number(arg('rounds') ?? 7);
const workloadNames = (arg('workloads') ?? 'lenet5,resnet18').split(',');
const threadCounts = (arg('threads') ?? '1,2').split(',').map(Number);
const runAlone = !process.argv.includes('--no-alone');

interface Workload {
  name: string;
  label: string;
  batch: number;
  shape: number[];
  /** Steps per block: long enough to time (>= ~0.1 s), short enough to interleave often. */
  iters: number;
  build: () => Module;
}
const WORKLOADS: Record<string, Workload> = {
  lenet5: { name: 'lenet5', label: 'LeNet-5, batch 64, 1x28x28', batch: 64, shape: [1, 28, 28], iters: 20,
    build: () => models.lenet5({ inputSize: 28 }) },
  resnet18: { name: 'resnet18', label: 'ResNet-18 (10 classes), batch 16, 3x64x64', batch: 16, shape: [3, 64, 64], iters: 3,
    build: () => models.resnet18({ numClasses: 10 }) },
};

/** One engine on one workload at one thread count: block(n) runs n training steps, returns seconds. */
interface Trainer {
  engine: string;
  block(iters: number): Promise<number>;
  dispose(): void;
}

/**
 * simdcnn: 'compiled' is what fit runs (compileTrainStep: the step recorded once, replayed by one
 * native call); 'eager' the hand-written loop (zeroGrad, forward, loss, backward, step).
 */
function simdcnnTrainer(w: Workload, backend: 'native' | 'js', threads: number, mode: 'compiled' | 'eager'): Trainer {
  manualSeed(0);
  const model = w.build().train();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const step = mode === 'compiled' ? compileTrainStep(model, { optimizer: opt, inputShape: [w.batch, ...w.shape] }) : null;
  const xs: Tensor[] = [], ys: Int32Array[] = [];
  for (let i = 0; i < 8; i++) {
    xs.push(randn([w.batch, ...w.shape], { seed: i }));
    ys.push(Int32Array.from({ length: w.batch }, (_, j) => (i * 7 + j) % 10));
  }
  let k = 0;
  const steps = (n: number) => {
    for (let i = 0; i < n; i++, k++) {
      if (step) {
        step.run(xs[k % xs.length], ys[k % ys.length]);
        continue;
      }
      tidy(() => {
        opt.zeroGrad();
        const loss = ops.crossEntropy(model.forward(xs[k % xs.length]), ys[k % ys.length]);
        loss.backward();
        opt.step();
      });
    }
  };
  const run = (n: number): number => {
    setBackend(backend);
    if (backend === 'native') setNumThreads(threads);
    try {
      const t0 = performance.now();
      steps(n);
      return (performance.now() - t0) / 1000;
    } finally {
      setBackend('native');
    }
  };
  run(3); // warm-up: the buffer pool, the JIT, the recording
  if (step && !step.compiled) throw new Error(`the training step was not compiled: ${step.whyEager}`);
  return {
    engine: backend === 'js' ? 'simdcnn js' : mode === 'compiled' ? 'simdcnn native (compiled step, as fit)' : 'simdcnn native (eager loop)',
    block: async (n) => run(n),
    dispose: () => { step?.dispose(); xs.forEach((x) => x.dispose()); opt.zeroGrad(); model.dispose(); },
  };
}

type TF = typeof import('@tensorflow/tfjs');
function tfjsTrainer(tf: TF, w: Workload): Trainer {
  if (w.name !== 'lenet5') throw new Error('tfjs: LeNet-5 only');
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
  const x = tf.randomNormal([w.batch, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: w.batch }, (_, j) => j % 10), 'int32'), 10);
  const step = () => tf.tidy(() => {
    opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.predict(x) as import('@tensorflow/tfjs').Tensor) as import('@tensorflow/tfjs').Scalar);
  });
  step();
  return {
    engine: 'tfjs cpu (pure JS)',
    block: async (n) => { const t0 = performance.now(); for (let i = 0; i < n; i++) step(); return (performance.now() - t0) / 1000; },
    dispose: () => { x.dispose(); y.dispose(); model.dispose(); },
  };
}

/** The PyTorch worker (bench/torch_train.py --serve): one request line, one reply line. */
class TorchWorker {
  private proc: ChildProcessWithoutNullStreams;
  private lines: AsyncIterableIterator<string>;
  env: Record<string, unknown> = {};
  constructor() {
    this.proc = spawn('/usr/bin/python3', [path.join(packageRoot(), 'bench', 'torch_train.py'), '--serve'], { stdio: 'pipe' });
    this.proc.stderr.on('data', (d) => process.stderr.write(`[torch] ${d}`));
    this.lines = readline.createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  async start(): Promise<void> { this.env = JSON.parse(await this.next()); }
  private async next(): Promise<string> {
    const r = await this.lines.next();
    if (r.done) throw new Error('the PyTorch worker exited');
    return r.value;
  }
  trainer(w: Workload, threads: number): Trainer {
    return {
      engine: 'pytorch',
      block: async (iters) => {
        this.proc.stdin.write(JSON.stringify({ model: w.name, threads, iters }) + '\n');
        return JSON.parse(await this.next()).seconds;
      },
      dispose: () => {},
    };
  }
  stop(): void { this.proc.stdin.end(); }
}

function torchAlone(w: Workload, threads: number): number | string {
  const script = path.join(packageRoot(), 'bench', 'torch_train.py');
  try {
    const out = execFileSync('/usr/bin/python3', [script, String(threads), String(w.iters), String(rounds), w.name],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out.trim().split('\n').pop()!).samplesPerSecond;
  } catch (e) {
    return `failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

function version(mod: string): string {
  try { return require(`${mod}/package.json`).version; } catch { return 'not installed'; }
}

async function main(): Promise<void> {
  const info = cpuInfo();
  let git = '';
  try { git = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: packageRoot(), encoding: 'utf8', stdio: 'pipe' }).trim(); } catch { /* not a clone */ }
  let torch: TorchWorker | null = new TorchWorker();
  try { await torch.start(); } catch (e) { console.log(`PyTorch unavailable (${(e as Error).message}): apt-get install python3-torch python3-torchvision`); torch = null; }
  let tf: TF | null = null;
  try { tf = require('@tensorflow/tfjs'); await tf!.setBackend('cpu'); } catch { tf = null; }
  const la = () => os.loadavg().map((v) => v.toFixed(2)).join(' ');
  const env = {
    date: new Date().toISOString(), cpu: os.cpus()[0]?.model ?? 'cpu', cores: os.cpus().length, isa: info.isa,
    node: process.versions.node, simdcnn: require(path.join(packageRoot(), 'package.json')).version as string,
    git, tfjs: tf ? version('@tensorflow/tfjs') : 'not installed', torch: torch?.env ?? null, loadavgBefore: la(),
    envVars: Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(OMP_|MKL_|OPENBLAS_|DNNL_|SIMDCNN_)/.test(k))),
  };
  console.log(`simdcnn bench:train, ${env.date}: ${env.cpu}, ${env.cores} cores, isa ${env.isa}; Node ${env.node}, simdcnn ${env.simdcnn}${git ? ` (${git})` : ''}; load average ${env.loadavgBefore}`);
  if (torch) {
    const t = torch.env as { torch: string; blas: string; referenceBlas: boolean; mkldnn: boolean; cpuCapability: string; env: object };
    console.log(`  PyTorch ${t.torch} (worker process, /usr/bin/python3): BLAS ${t.blas}, oneDNN ${t.mkldnn ? 'on' : 'off'}, cpu capability ${t.cpuCapability}, threads set per block with torch.set_num_threads; env ${JSON.stringify(t.env)}`);
    if (t.referenceBlas) {
      console.log('  WARNING: PyTorch is using the reference (netlib) BLAS, which halves its LeNet-5 training speed;\n' +
        '  install an optimised one for a fair peer: apt-get install libopenblas0-openmp');
    }
  }
  console.log(`  tfjs ${env.tfjs}; engine env ${JSON.stringify(env.envVars)}; SGD momentum 0.9, lr 0.01, cross-entropy, random data; ` +
    `${rounds} rounds of alternating blocks, medians of per-block samples/s\n`);

  const rows: (string | number)[][] = [['workload', 'threads', 'engine', 'samples/s', 'simdcnn / engine', 'engine alone']];
  const results: Record<string, unknown>[] = [];
  for (const wn of workloadNames) {
    const w = WORKLOADS[wn];
    if (!w) throw new Error(`unknown workload ${wn}: ${Object.keys(WORKLOADS).join(', ')}`);
    for (const threads of threadCounts) {
      const trainers: { t: Trainer; iters: number }[] = [{ t: simdcnnTrainer(w, 'native', threads, 'compiled'), iters: w.iters }];
      if (torch) trainers.push({ t: torch.trainer(w, threads), iters: w.iters });
      trainers.push({ t: simdcnnTrainer(w, 'native', threads, 'eager'), iters: w.iters });
      if (threads === 1 && w.name === 'lenet5') {
        trainers.push({ t: simdcnnTrainer(w, 'js', 1, 'eager'), iters: 2 });
        if (tf) trainers.push({ t: tfjsTrainer(tf, w), iters: 2 });
      }
      await trainers[1]?.t.block(1); // the worker's warm-up for this model and thread count
      const sps: number[][] = trainers.map(() => []);
      for (let r = 0; r < rounds; r++) {
        const order = trainers.map((_, i) => i);
        if (r % 2) order.reverse();
        for (const i of order) {
          const { t, iters } = trainers[i];
          sps[i].push((iters * w.batch) / (await t.block(iters)));
        }
      }
      const med = sps.map(median);
      // The per-round ratio pairs blocks run back to back: steadier than a ratio of medians on a noisy host.
      trainers.forEach(({ t }, i) => {
        const pairRatio = i === 0 ? 1 : median(sps[0].map((s, r) => s / sps[i][r]));
        const alone = t.engine === 'pytorch' && runAlone ? torchAlone(w, threads) : '';
        rows.push([w.label, threads, t.engine, Math.round(med[i]), i === 0 ? '' : pairRatio.toFixed(2),
          typeof alone === 'number' ? `${Math.round(alone)} (${(med[0] / alone).toFixed(2)}x)` : alone]);
        results.push({ workload: w.name, batch: w.batch, threads, engine: t.engine, samplesPerSecond: med[i],
          perBlock: sps[i], simdcnnOverEngine: pairRatio, alone: alone === '' ? undefined : alone });
      });
      trainers.forEach(({ t }) => t.dispose());
    }
  }
  torch?.stop();
  console.log(table(rows));
  console.log(`\nload average before ${env.loadavgBefore}, after ${la()}. "simdcnn / engine": median over rounds of the ` +
    'ratio of back-to-back blocks; "engine alone": PyTorch in its own process afterwards (bench/torch_train.py), and simdcnn\'s median over it.');
  const outDir = path.join(packageRoot(), 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'train.json'), JSON.stringify({ environment: { ...env, loadavgAfter: la() }, rounds, results }, null, 2));
}

main().catch((e) => { console.error(e); process.exit(1); });

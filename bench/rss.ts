/**
 * Peak resident memory of a fresh Node process that does only ResNet-18 batch-1 inference, for
 * simdcnn native and for onnxruntime-node, measured the same way: the parent writes the weights
 * (safetensors for simdcnn, ONNX for ORT, both from the same state dict) to a temporary directory,
 * spawns `node rss.js --child <engine> <file>`, and the child loads its engine and the file, runs
 * the forward pass `runs` times and prints process.resourceUsage().maxRSS. A child that only starts
 * Node gives the baseline. measureOnnxRss does the same for one ONNX file run by both engines
 * (simdcnn through io.loadOnnx), for the model zoo (bench/zoo.ts --rss).
 *   parent: measureRss({ threads }) or measureOnnxRss({ file, shape, threads, runs })
 *   child: node dist/bench/rss.js --child simdcnn|simdcnn-compiled|simdcnn-onnx|ort|node FILE THREADS [RUNS] [N,C,H,W]
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface RssRow {
  engine: string;
  /** Peak RSS in MiB (maxRSS is in KiB on Linux). */
  maxRssMiB: number;
  /** maxRSS minus the bare-Node child. */
  overNodeMiB: number;
  /** Linux /proc/self/status VmHWM of the child (the same high-water mark, per address space), MiB. */
  vmHwmMiB: number | null;
  /** Wall time of the child, seconds. */
  seconds: number;
}

const RUNS = 3;

async function child(engine: string, file: string, threads: number, runs: number, shape: number[]): Promise<void> {
  const input = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.37);
  let out = 0;
  if (engine === 'simdcnn' || engine === 'simdcnn-compiled') {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const s = require('../lib/index') as typeof import('../lib/index');
    s.setNumThreads(threads);
    const model = s.models.resnet18();
    // loadStateDict copies into the model's own tensors: the loaded ones are disposed at once, as a
    // memory-conscious service would (left to the garbage collector, their 45 MB stayed resident or
    // not depending on when it ran: the compiled child's peak moved by 35 MB with one extra call).
    const loaded = s.io.loadSafetensors(file);
    model.loadStateDict(loaded);
    for (const t of Object.values(loaded)) t.dispose();
    model.eval();
    const x = s.tensor(input, shape);
    const compiled = engine === 'simdcnn-compiled' ? model.compile(shape) : null;
    for (let r = 0; r < runs; r++) {
      const y = compiled ? compiled.call(x) : s.noGrad(() => s.tidy(() => model.call(x)));
      out += y.data[0];
      y.dispose();
    }
  } else if (engine === 'simdcnn-onnx') {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const s = require('../lib/index') as typeof import('../lib/index');
    s.setNumThreads(threads);
    const model = await s.io.loadOnnx(file);
    const x = s.tensor(input, shape);
    for (let r = 0; r < runs; r++) {
      const y = model.run(x);
      out += y.data[0];
      y.dispose();
    }
  } else if (engine === 'ort') {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
    const session = await ort.InferenceSession.create(new Uint8Array(fs.readFileSync(file)), {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'], graphOptimizationLevel: 'all',
    });
    const x = new ort.Tensor('float32', input, shape);
    for (let r = 0; r < runs; r++) {
      const res = await session.run({ [session.inputNames[0]]: x });
      out += (res[session.outputNames[0]].data as Float32Array)[0];
    }
  } else if (engine !== 'node') {
    throw new Error(`rss child: unknown engine '${engine}'`);
  }
  let vmHwmKiB: number | null = null;
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) vmHwmKiB = Number(m[1]);
  } catch { /* not Linux */ }
  process.stdout.write(JSON.stringify({ maxRSS: process.resourceUsage().maxRSS, vmHwmKiB, out }) + '\n');
}

/** Spawns the three children (bare node, simdcnn, ORT) one after another. */
export async function measureRss(opts: { threads: number; weightsDir?: string }): Promise<RssRow[]> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { io } = require('../lib/index') as typeof import('../lib/index');
  const { WORKLOADS } = await import('./workloads');
  const { onnxBytes } = await import('./engines/ort');
  const wl = WORKLOADS.find((w) => w.name === 'resnet18')!;
  const dir = opts.weightsDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'simdcnn-rss-'));
  const model = wl.model();
  const sd = model.stateDict();
  const st = path.join(dir, 'resnet18.safetensors');
  const onnx = path.join(dir, 'resnet18.onnx');
  io.saveSafetensors(sd, st);
  fs.writeFileSync(onnx, onnxBytes({ workload: wl }, sd));
  model.dispose();
  try {
    return runChildren([['node', ''], ['simdcnn', st], ['simdcnn-compiled', st], ['ort', onnx]], opts.threads, RUNS, [1, 3, 224, 224]);
  } finally {
    if (!opts.weightsDir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Peak RSS of fresh children that load one ONNX file and run it `runs` times on an input of
 * `shape`: bare Node, simdcnn (io.loadOnnx, OnnxModel.run) and onnxruntime-node.
 */
export function measureOnnxRss(opts: { file: string; shape: number[]; threads: number; runs: number }): RssRow[] {
  return runChildren([['node', ''], ['simdcnn-onnx', opts.file], ['ort', opts.file]], opts.threads, opts.runs, opts.shape);
}

const ENGINE_NAMES: Record<string, string> = {
  node: 'node (baseline)', ort: 'onnxruntime-node', simdcnn: 'simdcnn native eager', 'simdcnn-compiled': 'simdcnn native (compiled)',
  'simdcnn-onnx': 'simdcnn native (loadOnnx)',
};

/** Spawns one child per [engine, file], one after another; the first must be the bare-node baseline. */
function runChildren(children: (readonly [string, string])[], threads: number, runs: number, shape: number[]): RssRow[] {
  const rows: RssRow[] = [];
  let base = 0;
  for (const [engine, file] of children) {
    const t0 = process.hrtime.bigint();
    // Linux carries the pre-exec address space's high-water mark into ru_maxrss across exec, so a
    // child forked straight from this (large) process would report at least our own RSS. A shell
    // in between forks the real child from a small process (the trailing command keeps the shell
    // from exec-ing it in place).
    const args = [__filename, '--child', engine, file, String(threads), String(runs), shape.join(',')];
    const stdout = process.platform === 'win32'
      ? execFileSync(process.execPath, args, { encoding: 'utf8' })
      : execFileSync('/bin/sh', ['-c', '"$0" "$@"; rc=$?; exit $rc', process.execPath, ...args], { encoding: 'utf8' });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { maxRSS: number; vmHwmKiB: number | null };
    const mib = r.maxRSS / 1024;
    if (engine === 'node') base = mib;
    rows.push({ engine: ENGINE_NAMES[engine], maxRssMiB: mib, overNodeMiB: mib - base, vmHwmMiB: r.vmHwmKiB === null ? null : r.vmHwmKiB / 1024, seconds });
  }
  return rows;
}

if (require.main === module) {
  const i = process.argv.indexOf('--child');
  if (i >= 0) {
    const a = process.argv;
    const shape = a[i + 5] ? a[i + 5].split(',').map(Number) : [1, 3, 224, 224];
    child(a[i + 1], a[i + 2], Number(a[i + 3]) || 1, Number(a[i + 4]) || RUNS, shape).catch((e) => {
      console.error(e);
      process.exit(1);
    });
  } else {
    measureRss({ threads: Number(process.argv[2]) || 1 }).then((rows) => console.table(rows));
  }
}

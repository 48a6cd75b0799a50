/**
 * Side-by-side inference benchmark: simdcnn (native, native forwardAsync, js) against
 * onnxruntime-node and TensorFlow.js (cpu, wasm) on the same weights and the same inputs.
 * Each case checks its output against simdcnn native before timing it.
 *   npm run build:ts && npm run bench [-- --quick] [--only resnet18,alexnet] [--engines ort,tfjs] [--no-rss]
 * Writes bench/results/bench-<timestamp>.json.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cpuInfo, setNumThreads, setBackend } from '../lib/index';
import { packageRoot } from '../lib/backend/loader';
import { compare, measurePeak, median, nowS, table } from './util';
import { WORKLOADS, inputFor, Workload } from './workloads';
import type { BenchCase, Engine, Runner } from './engines/types';
import { simdcnnNative, simdcnnNativeEager, simdcnnNativeDirect, simdcnnNativeAsync, simdcnnJs } from './engines/simdcnn';
import { onnxruntime, ortVersion } from './engines/ort';
import { tfjsCpu, tfjsWasm, tfjsVersion, wasmInfo } from './engines/tfjs';
import { measureRss, RssRow } from './rss';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const argOf = (k: string): string | undefined => {
  const i = argv.indexOf(k);
  return i >= 0 ? argv[i + 1] : undefined;
};
const only = argOf('--only')?.split(',');
const engineFilter = argOf('--engines')?.split(',');
const noRss = argv.includes('--no-rss');

const BATCHES = quick ? [1] : [1, 8];
const THREADS = [1, 2];
/** Seconds of timed runs to aim for per row; repeats are clamped to [MIN_REPEATS, MAX_REPEATS]. */
const BUDGET_S = quick ? 1 : 3;
const MIN_REPEATS = quick ? 1 : 3;
const MAX_REPEATS = quick ? 30 : 200;
/** A row whose single run takes longer than this is "slow": no extra warm-up beyond the check. */
const SLOW_S = 0.5;

const ENGINES: Engine[] = [simdcnnNative, simdcnnNativeEager, simdcnnNativeDirect, simdcnnNativeAsync, simdcnnJs, onnxruntime, tfjsWasm, tfjsCpu];

interface Row {
  workload: string;
  batch: number;
  threads: number;
  engine: string;
  status: 'ok' | 'check-failed' | 'error' | 'skipped';
  note?: string;
  repeats?: number;
  medianMs?: number;
  minMs?: number;
  imagesPerS?: number;
  gflops?: number;
  pctPeak?: number;
  /** engine median / simdcnn native median at the same workload, batch and threads (>1: native is faster). */
  vsNative?: number;
  maxAbsDiff?: number;
  relDiff?: number;
}

async function once(r: Runner): Promise<{ out: Float32Array; s: number }> {
  const t0 = nowS();
  const out = await r.run();
  return { out, s: nowS() - t0 };
}

/** NHWC [N, H, W, C] -> NCHW. */
function toNCHW(a: Float32Array, [N, H, W, C]: [number, number, number, number]): Float32Array {
  const o = new Float32Array(a.length);
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let c = 0; c < C; c++) o[((n * C + c) * H + h) * W + w] = a[((n * H + h) * W + w) * C + c];
  return o;
}

async function benchCase(
  engine: Engine, c: BenchCase, weights: ReturnType<ReturnType<Workload['model']>['stateDict']>,
  ref: Float32Array | null, peakPerCore: number | null,
): Promise<{ row: Row; out?: Float32Array }> {
  const wl = c.workload;
  const row: Row = { workload: wl.name, batch: c.batch, threads: c.threads, engine: engine.name, status: 'ok' };
  let runner: Runner | null = null;
  try {
    runner = await engine.prepare(c, weights);
    // The first run is the check (and a warm-up).
    const first = await once(runner);
    let out = first.out;
    if (runner.outputNHWC) out = toNCHW(out, runner.outputNHWC);
    out = out.slice();
    if (ref) {
      const { maxAbs, rel } = compare(ref, out);
      row.maxAbsDiff = maxAbs; row.relDiff = rel;
      if (!(rel <= wl.tol)) {
        row.status = 'check-failed';
        console.error(`\n!!!!! CHECK FAILED: ${engine.name} on ${wl.name} batch ${c.batch} threads ${c.threads}: ` +
          `max |diff| ${maxAbs.toExponential(3)} = ${rel.toExponential(3)} x max|ref| > tol ${wl.tol} !!!!!\n`);
      }
    }
    let est = first.s;
    if (est < SLOW_S) {
      // Warm up for ~0.3 s (at least 3 runs): sub-millisecond cases need hundreds of calls before
      // V8 has optimised the JS around the kernels (both simdcnn's and each engine's binding).
      const until = nowS() + 0.3;
      for (let i = 0; i < 3 || (nowS() < until && i < 5000); i++) est = (await once(runner)).s;
    }
    const repeats = Math.max(MIN_REPEATS, Math.min(MAX_REPEATS, Math.ceil(BUDGET_S / Math.max(est, 1e-6))));
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push((await once(runner)).s);
    const med = median(times);
    row.repeats = repeats;
    row.medianMs = med * 1e3;
    row.minMs = Math.min(...times) * 1e3;
    row.imagesPerS = c.batch / med;
    row.gflops = (wl.flopsPerImage * c.batch) / med / 1e9;
    if (peakPerCore) row.pctPeak = (100 * row.gflops) / (peakPerCore * c.threads);
    return { row, out };
  } catch (e) {
    row.status = 'error';
    row.note = (e as Error).message.split('\n')[0];
    console.error(`ERROR: ${engine.name} on ${wl.name} batch ${c.batch} threads ${c.threads}: ${(e as Error).stack}`);
    return { row };
  } finally {
    if (runner) await runner.dispose();
    setBackend('native');
  }
}

function fmt(v: number | undefined, digits: number): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  return v.toFixed(digits);
}

async function main(): Promise<void> {
  const root = packageRoot();
  const info = cpuInfo();
  const peak = measurePeak(root);
  const peakPerCore = peak ? (info.isa === 'avx512' ? peak.avx512 : peak.avx2) : null;
  console.log(`simdcnn bench${quick ? ' --quick' : ''}: ${os.cpus()[0]?.model ?? 'cpu'}, ${info.hardwareThreads} hardware threads, isa ${info.isa}; Node ${process.version}`);
  console.log(`  onnxruntime-node ${ortVersion() || '(absent)'}, @tensorflow/tfjs ${tfjsVersion() || '(absent)'}`);
  if (peak) console.log(`  measured FP32 FMA peak per core: AVX-512 ${peak.avx512.toFixed(1)} GFLOP/s, AVX2 ${peak.avx2.toFixed(1)} GFLOP/s; % peak uses ${info.isa === 'avx512' ? 'AVX-512' : 'AVX2'} x threads for every engine`);
  else console.log('  FMA peak: not measured (needs x86-64 and g++)');

  const engines: Engine[] = [];
  const notes: string[] = [];
  for (const e of ENGINES) {
    if (engineFilter && e !== simdcnnNative && !engineFilter.some((f) => e.name.includes(f))) continue;
    const a = e.available();
    if (a !== true) { notes.push(`${e.name}: skipped, ${a}`); console.log(`  skipping ${e.name}: ${a}`); continue; }
    engines.push(e);
    if (e.note) notes.push(e.note);
  }
  notes.push('GFLOP/s counts direct-convolution + linear FLOPs (2 x MACs) only; "vs native" = engine time / simdcnn native time at the same workload, batch and threads (>1: native is faster).');

  const rows: Row[] = [];
  const workloads = WORKLOADS.filter((w) => !only || only.includes(w.name));
  for (const wl of workloads) {
    const model = wl.model();
    const weights = model.stateDict();
    for (const batch of BATCHES) {
      const input = inputFor(wl, batch);
      let ref: Float32Array | null = null;
      for (const threads of THREADS) {
        let nativeMs: number | undefined;
        for (const engine of engines) {
          const c: BenchCase = { workload: wl, batch, threads, input };
          if (engine.applies && !engine.applies(c)) continue;
          if (!engine.threaded && threads !== 1) continue;
          if (quick && engine === tfjsCpu && wl.heavy && batch > 1) {
            rows.push({ workload: wl.name, batch, threads, engine: engine.name, status: 'skipped', note: '--quick' });
            continue;
          }
          process.stdout.write(`  ${wl.name} b${batch} t${threads} ${engine.name} ... `);
          const { row, out } = await benchCase(engine, c, weights, ref, peakPerCore);
          if (engine === simdcnnNative) {
            if (!ref && out) ref = out;
            nativeMs = row.medianMs;
          }
          if (nativeMs && row.medianMs) row.vsNative = row.medianMs / nativeMs;
          rows.push(row);
          console.log(row.status === 'ok' || row.status === 'check-failed'
            ? `${fmt(row.medianMs, 3)} ms (x${row.repeats})${row.status === 'check-failed' ? '  CHECK FAILED' : ''}`
            : `${row.status}: ${row.note ?? ''}`);
        }
      }
    }
    model.dispose();
  }
  setNumThreads(info.hardwareThreads);

  const w = wasmInfo();
  if (w) notes.push(`tfjs wasm reported: simd ${w.simd}, multithread ${w.multithread}, threads ${w.threads}.`);

  const header = ['workload', 'batch', 'thr', 'engine', 'median ms', 'min ms', 'img/s', 'GFLOP/s', '% peak', 'vs native', 'check'];
  const out: (string | number)[][] = [header];
  for (const r of rows) {
    const check = r.status === 'ok'
      ? (r.relDiff === undefined ? 'ref' : `ok ${r.relDiff.toExponential(1)}`)
      : r.status === 'check-failed' ? `FAIL ${r.relDiff?.toExponential(1)}` : `${r.status}${r.note ? ` (${r.note.slice(0, 40)})` : ''}`;
    out.push([r.workload, r.batch, r.threads, r.engine, fmt(r.medianMs, 3), fmt(r.minMs, 3), fmt(r.imagesPerS, 1), fmt(r.gflops, 1),
      fmt(r.pctPeak, 1), fmt(r.vsNative, 2), check]);
  }
  console.log('\n' + table(out));
  const failed = rows.filter((r) => r.status === 'check-failed');
  if (failed.length) console.error(`\n!!!!! ${failed.length} row(s) FAILED the output check: ${failed.map((r) => `${r.engine}/${r.workload}/b${r.batch}/t${r.threads}`).join(', ')} !!!!!`);
  console.log('\nnotes:\n' + notes.map((n) => `  - ${n}`).join('\n'));

  let rss: RssRow[] | null = null;
  if (!noRss && (!engineFilter || engines.includes(onnxruntime))) {
    try {
      rss = await measureRss({ threads: 1 });
      console.log('\npeak RSS of a fresh process doing only ResNet-18 batch-1 inference (3 runs, 1 thread, weights loaded from a file):');
      console.log(table([['engine', 'maxRSS MiB', 'over bare node MiB', 'VmHWM MiB', 'child s'],
        ...rss.map((r) => [r.engine, r.maxRssMiB.toFixed(1), r.engine.startsWith('node') ? '' : r.overNodeMiB.toFixed(1),
          r.vmHwmMiB === null ? '' : r.vmHwmMiB.toFixed(1), r.seconds.toFixed(2)])]));
    } catch (e) {
      console.error(`RSS measurement failed: ${(e as Error).message}`);
    }
  }

  const dir = path.join(root, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `bench-${stamp}.json`);
  fs.writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(), quick, cpu: { model: os.cpus()[0]?.model, ...info }, peak, node: process.version,
    versions: { onnxruntime: ortVersion(), tfjs: tfjsVersion() }, notes,
    workloads: WORKLOADS.map((w) => ({ name: w.name, input: w.input, flopsPerImage: w.flopsPerImage, tol: w.tol })),
    rows, rss,
  }, null, 2));
  console.log(`\nwrote ${path.relative(root, file)}`);
  if (failed.length) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

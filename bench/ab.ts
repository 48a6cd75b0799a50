/**
 * Interleaved A/B timing of simdcnn native against onnxruntime-node (and the direct-only planned
 * path) on one workload: both engines are prepared once, then run alternately, so a shared host's
 * drift (a neighbour's burst, frequency changes) lands on both sides of each pair. Reports each
 * engine's median, and the median of the per-pair time ratios ORT / native (>1: simdcnn faster),
 * which is the figure the ratio targets are about.
 *   npm run build:ts && node dist/bench/ab.js [--only resnet18] [--batch 1] [--threads 1] [--pairs 60] [--gap-ms N]
 */
import { cpuInfo, setBackend } from '../lib/index';
import { median, nowS, table } from './util';
import { WORKLOADS, inputFor } from './workloads';
import type { BenchCase, Engine, Runner } from './engines/types';
import { simdcnnNative, simdcnnNativeDirect, simdcnnNativeEager } from './engines/simdcnn';
import { onnxruntime } from './engines/ort';

const argv = process.argv.slice(2);
const argOf = (k: string, d: string): string => {
  const i = argv.indexOf(k);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : d;
};
const names = argOf('--only', 'lenet5,conv3x3,resnet18').split(',');
const batches = argOf('--batch', '1').split(',').map(Number);
const threadsList = argOf('--threads', '1').split(',').map(Number);
const pairs = Number(argOf('--pairs', '60'));
// Both engines live in one process, and with threads > 1 each one's pool workers spin for a while
// after a run (ORT's intra-op threads by default, ours for 100 us): a pause before every timed run
// lets the other engine's spinners park instead of taking a core from the run being timed. At one
// thread neither has workers, and a pause would only time sub-millisecond cases from cold caches
// (it does so above one thread too: compare LeNet-5 there with --gap-ms 0).
const gapArg = argOf('--gap-ms', '');
const gapFor = (threads: number): number => (gapArg !== '' ? Number(gapArg) : threads > 1 ? 5 : 0);
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function timed(r: Runner, gapMs: number): Promise<number> {
  if (gapMs > 0) await pause(gapMs);
  const t0 = nowS();
  await r.run();
  return nowS() - t0;
}

async function main(): Promise<void> {
  const avail = onnxruntime.available();
  if (avail !== true) { console.log(`skipping: ${avail}`); return; }
  const info = cpuInfo();
  console.log(`interleaved A/B: isa ${info.isa}, ${info.hardwareThreads} hardware threads; ${pairs} pairs per row (medians)`);
  const rows: (string | number)[][] = [['workload', 'batch', 'thr', 'engine', 'median ms', 'min ms', 'median ratio ORT/engine', 'pairs engine faster']];
  for (const name of names) {
    const wl = WORKLOADS.find((w) => w.name === name);
    if (!wl) throw new RangeError(`ab: unknown workload '${name}' (have ${WORKLOADS.map((w) => w.name).join(', ')})`);
    const model = wl.model();
    const weights = model.stateDict();
    for (const batch of batches) {
      for (const threads of threadsList) {
        const c: BenchCase = { workload: wl, batch, threads, input: inputFor(wl, batch) };
        const gap = gapFor(threads);
        const sides: Engine[] = [simdcnnNative];
        if (simdcnnNativeEager.applies!(c)) sides.push(simdcnnNativeEager);
        if (simdcnnNativeDirect.applies!(c)) sides.push(simdcnnNativeDirect);
        const ort = await onnxruntime.prepare(c, weights);
        for (const e of sides) {
          const nat = await e.prepare(c, weights);
          // Warm both for ~0.5 s (V8 tiering, weight packing, ORT's arenas) without the pauses:
          // sub-millisecond cases need hundreds of calls before V8 has optimised the JS around them.
          const until = nowS() + 0.5;
          for (let i = 0; i < 3 || nowS() < until; i++) { await nat.run(); await ort.run(); }
          const tn: number[] = [], to: number[] = [], ratio: number[] = [];
          for (let i = 0; i < pairs; i++) {
            // Alternate which side goes first so neither always runs on the other's warm caches.
            let a: number, b: number;
            if (i % 2 === 0) { a = await timed(nat, gap); b = await timed(ort, gap); } else { b = await timed(ort, gap); a = await timed(nat, gap); }
            tn.push(a); to.push(b); ratio.push(b / a);
          }
          const wins = ratio.filter((r) => r > 1).length;
          rows.push([name, batch, threads, e.name, (median(tn) * 1e3).toFixed(3), (Math.min(...tn) * 1e3).toFixed(3),
            median(ratio).toFixed(3), `${wins}/${pairs}`]);
          rows.push([name, batch, threads, 'onnxruntime-node', (median(to) * 1e3).toFixed(3), (Math.min(...to) * 1e3).toFixed(3), '', '']);
          await nat.dispose();
          setBackend('native');
        }
        await ort.dispose();
      }
    }
    model.dispose();
  }
  console.log(table(rows));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

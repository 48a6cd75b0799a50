/**
 * Issue 3's first benchmark: two convolutions on the native core vs the pure-TS reference, 1 and 2
 * threads, medians over repeats, as GFLOP/s and as the native/js ratio; plus the measured FP32
 * FMA peak of one core.
 *   npm run build:ts && node dist/bench/conv.js [--repeats 15]
 */
import * as fs from 'fs';
import * as path from 'path';
import { ops, randn, setBackend, setNumThreads, cpuInfo, tidy } from '../lib/index';
import { packageRoot } from '../lib/backend/loader';
import { measurePeak, median, table, time } from './util';

const repeats = Number(process.argv[process.argv.indexOf('--repeats') + 1]) || 15;

interface Workload { name: string; x: number[]; w: number[]; opts: { stride?: number; padding?: number } }
const workloads: Workload[] = [
  { name: 'conv3x3 64->64 56x56', x: [1, 64, 56, 56], w: [64, 64, 3, 3], opts: { padding: 1 } },
  { name: 'resnet18 conv1 3->64 7x7/2 224', x: [1, 3, 224, 224], w: [64, 3, 7, 7], opts: { stride: 2, padding: 3 } },
];

function flops(w: Workload): number {
  const [, , H, W] = w.x;
  const [outC, cin, kH, kW] = w.w;
  const s = w.opts.stride ?? 1, p = w.opts.padding ?? 0;
  const OH = Math.floor((H + 2 * p - kH) / s) + 1, OW = Math.floor((W + 2 * p - kW) / s) + 1;
  return 2 * outC * cin * kH * kW * OH * OW * w.x[0];
}

function main(): void {
  const root = packageRoot();
  const peak = measurePeak(root);
  const info = cpuInfo();
  console.log(`cpu: isa ${info.isa}, ${info.hardwareThreads} hardware threads; repeats ${repeats} (medians)`);
  if (peak) console.log(`measured single-thread FP32 FMA peak: AVX-512 ${peak.avx512} GFLOP/s, AVX2 ${peak.avx2} GFLOP/s (bench/fma_peak.cc: 16 independent FMA chains, pinned to core 0)`);
  const rows: (string | number)[][] = [['workload', 'engine', 'threads', 'median ms', 'GFLOP/s', 'native/js', '% peak']];
  const results: Record<string, unknown>[] = [];
  for (const wl of workloads) {
    const x = randn(wl.x, { seed: 1 }), w = randn(wl.w, { seed: 2 }), b = randn([wl.w[0]], { seed: 3 });
    const f = flops(wl);
    setBackend('js');
    const jsTimes = time(() => tidy(() => { ops.conv2d(x, w, b, wl.opts); }), Math.max(3, Math.floor(repeats / 3)), 1);
    const jsMed = median(jsTimes);
    rows.push([wl.name, 'js', 1, (jsMed * 1e3).toFixed(2), (f / jsMed / 1e9).toFixed(2), '1.0', '']);
    results.push({ workload: wl.name, engine: 'js', threads: 1, medianMs: jsMed * 1e3, gflops: f / jsMed / 1e9 });
    setBackend('native');
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      const t = median(time(() => tidy(() => { ops.conv2d(x, w, b, wl.opts); }), repeats, 3));
      const g = f / t / 1e9;
      const pct = peak ? ((100 * g) / ((info.isa === 'avx512' ? peak.avx512 : peak.avx2) * threads)).toFixed(1) : '';
      rows.push([wl.name, 'native', threads, (t * 1e3).toFixed(3), g.toFixed(1), (jsMed / t).toFixed(1), pct]);
      results.push({ workload: wl.name, engine: 'native', threads, medianMs: t * 1e3, gflops: g, ratioVsJs: jsMed / t, pctPeak: Number(pct) });
    }
    x.dispose(); w.dispose(); b.dispose();
  }
  console.log(table(rows));
  const outDir = path.join(root, 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'conv.json'), JSON.stringify({ date: new Date().toISOString(), cpu: info, peak, results }, null, 2));
}

main();

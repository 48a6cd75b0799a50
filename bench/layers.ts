/**
 * Where ResNet-18's time goes, layer shape by layer shape: every distinct convolution of
 * ResNet-18 at 224x224 (batch 1 by default) as a single planned simdcnn Conv2d (direct and, for
 * 3x3 stride 1, Winograd) against the same Conv node in onnxruntime-node, run alternately in one
 * process. Each row's time is weighted by how often the shape occurs in the network, so the
 * "x count" columns add up to (most of) a forward and show which layers a gap comes from.
 * `--set grouped`: the grouped 3x3 convolutions of regnet_x_400mf (group width 16), regnet_y_400mf
 * (group width 8) and resnext50_32x4d (32 groups of 4..32 channels) instead, summed per network.
 *   npm run build:ts && node dist/bench/layers.js [--set resnet18|grouped] [--batch 1] [--threads 1] [--pairs 40]
 */
import { Tensor, nn, noGrad, tidy, tensor, setBackend, setNumThreads, manualSeed, io, cpuInfo } from '../lib/index';
import { median, nowS, table } from './util';

const argv = process.argv.slice(2);
const argOf = (k: string, d: string): string => {
  const i = argv.indexOf(k);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : d;
};
const batch = Number(argOf('--batch', '1'));
const threads = Number(argOf('--threads', '1'));
const pairs = Number(argOf('--pairs', '40'));
const set = argOf('--set', 'resnet18');
if (set !== 'resnet18' && set !== 'grouped') throw new RangeError(`--set must be resnet18 or grouped, got ${set}`);

interface Layer {
  name: string; cin: number; cout: number; k: number; stride: number; pad: number; hw: number; count: number;
  groups?: number; net?: string;
}

// ResNet-18's convolutions by shape (input size hw), with how many times each occurs.
const LAYERS: Layer[] = [
  { name: 'conv1 7x7/2', cin: 3, cout: 64, k: 7, stride: 2, pad: 3, hw: 224, count: 1 },
  { name: 'l1 3x3 64@56', cin: 64, cout: 64, k: 3, stride: 1, pad: 1, hw: 56, count: 4 },
  { name: 'l2 3x3/2 64->128', cin: 64, cout: 128, k: 3, stride: 2, pad: 1, hw: 56, count: 1 },
  { name: 'l2 1x1/2 64->128', cin: 64, cout: 128, k: 1, stride: 2, pad: 0, hw: 56, count: 1 },
  { name: 'l2 3x3 128@28', cin: 128, cout: 128, k: 3, stride: 1, pad: 1, hw: 28, count: 3 },
  { name: 'l3 3x3/2 128->256', cin: 128, cout: 256, k: 3, stride: 2, pad: 1, hw: 28, count: 1 },
  { name: 'l3 1x1/2 128->256', cin: 128, cout: 256, k: 1, stride: 2, pad: 0, hw: 28, count: 1 },
  { name: 'l3 3x3 256@14', cin: 256, cout: 256, k: 3, stride: 1, pad: 1, hw: 14, count: 3 },
  { name: 'l4 3x3/2 256->512', cin: 256, cout: 512, k: 3, stride: 2, pad: 1, hw: 14, count: 1 },
  { name: 'l4 1x1/2 256->512', cin: 256, cout: 512, k: 1, stride: 2, pad: 0, hw: 14, count: 1 },
  { name: 'l4 3x3 512@7', cin: 512, cout: 512, k: 3, stride: 1, pad: 1, hw: 7, count: 3 },
];

/** A grouped 3x3 layer of `net`: c channels in and out, c / cg groups, input map hw. */
const grouped = (net: string, c: number, cg: number, stride: number, hw: number, count: number): Layer => ({
  name: `${net} ${c} g${c / cg}${stride === 2 ? '/2' : ''} @${hw}`, cin: c, cout: c, k: 3, stride, pad: 1, hw, count,
  groups: c / cg, net,
});

// torchvision 0.14's grouped convolutions at 224x224 (the bottlenecks' 3x3 conv; stride 2 in each
// stage's first block), with how many times each occurs.
const GROUPED: Layer[] = [
  grouped('regnet_x_400mf', 32, 16, 2, 112, 1),
  grouped('regnet_x_400mf', 64, 16, 2, 56, 1),
  grouped('regnet_x_400mf', 64, 16, 1, 28, 1),
  grouped('regnet_x_400mf', 160, 16, 2, 28, 1),
  grouped('regnet_x_400mf', 160, 16, 1, 14, 6),
  grouped('regnet_x_400mf', 400, 16, 2, 14, 1),
  grouped('regnet_x_400mf', 400, 16, 1, 7, 11),
  grouped('regnet_y_400mf', 48, 8, 2, 112, 1),
  grouped('regnet_y_400mf', 104, 8, 2, 56, 1),
  grouped('regnet_y_400mf', 104, 8, 1, 28, 2),
  grouped('regnet_y_400mf', 208, 8, 2, 28, 1),
  grouped('regnet_y_400mf', 208, 8, 1, 14, 5),
  grouped('regnet_y_400mf', 440, 8, 2, 14, 1),
  grouped('regnet_y_400mf', 440, 8, 1, 7, 5),
  grouped('resnext50', 128, 4, 1, 56, 3),
  grouped('resnext50', 256, 8, 2, 56, 1),
  grouped('resnext50', 256, 8, 1, 28, 3),
  grouped('resnext50', 512, 16, 2, 28, 1),
  grouped('resnext50', 512, 16, 1, 14, 5),
  grouped('resnext50', 1024, 32, 2, 14, 1),
  grouped('resnext50', 1024, 32, 1, 7, 2),
];

type Run = () => Promise<void> | void;

async function main(): Promise<void> {
  let ort: typeof import('onnxruntime-node');
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    ort = require('onnxruntime-node');
  } catch (e) {
    console.log(`skipping: onnxruntime-node not installed (${(e as Error).message.split('\n')[0]})`);
    return;
  }
  setBackend('native');
  setNumThreads(threads);
  const info = cpuInfo();
  const layers = set === 'grouped' ? GROUPED : LAYERS;
  console.log(`${set === 'grouped' ? 'Grouped' : 'ResNet-18'} layers, batch ${batch}, ${threads} thread(s), isa ${info.isa}; ${pairs} interleaved pairs per row (medians)`);
  const rows: (string | number)[][] = [['layer', 'count', 'engine', 'median ms', 'x count ms', 'GFLOP/s', 'ORT/engine']];
  const totals = new Map<string, number>();
  for (const L of layers) {
    const oh = Math.floor((L.hw + 2 * L.pad - L.k) / L.stride) + 1;
    const flops = 2 * batch * L.cout * (L.cin / (L.groups ?? 1)) * L.k * L.k * oh * oh;
    manualSeed(7);
    const groups = L.groups ?? 1;
    const conv = new nn.Conv2d(L.cin, L.cout, L.k, { stride: L.stride, padding: L.pad, groups });
    conv.eval();
    const x = tensor(new Float32Array(batch * L.cin * L.hw * L.hw).map((_, i) => Math.sin(i * 0.37)), [batch, L.cin, L.hw, L.hw]);
    const session = await ort.InferenceSession.create(
      io.onnxFromStateDict.conv(conv.weight, conv.bias, { stride: L.stride, padding: L.pad, groups }),
      { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    const ox = new ort.Tensor('float32', x.data.slice(), [batch, L.cin, L.hw, L.hw]);
    const ortRun: Run = async () => { await session.run({ input: ox }); };
    // Grouped layers also time conv2d's implicit-im2col GEMM (no prepared weights: the path they
    // took before packed grouped weights existed) in the same interleaving.
    const sides: [string, boolean, boolean][] = [['direct', false, true]];
    if (L.k === 3 && L.stride === 1 && groups === 1) sides.push(['winograd', true, true]);
    if (groups > 1) sides.push(['conv2d gemm', false, false]);
    for (const [label, wino, pack] of sides) {
      conv.setFastInference(true, { winograd: wino, packWeights: pack });
      const ours: Run = () => { noGrad(() => tidy(() => { conv.call(x); })); };
      const until = nowS() + 0.3;
      for (let i = 0; i < 3 || nowS() < until; i++) { await ours(); await ortRun(); }
      const a: number[] = [], b: number[] = [], r: number[] = [];
      for (let i = 0; i < pairs; i++) {
        let ta: number, tb: number, t0: number;
        if (i % 2 === 0) {
          t0 = nowS(); await ours(); ta = nowS() - t0;
          t0 = nowS(); await ortRun(); tb = nowS() - t0;
        } else {
          t0 = nowS(); await ortRun(); tb = nowS() - t0;
          t0 = nowS(); await ours(); ta = nowS() - t0;
        }
        a.push(ta); b.push(tb); r.push(tb / ta);
      }
      const ma = median(a), mb = median(b);
      rows.push([L.name, L.count, `simdcnn ${label}`, (ma * 1e3).toFixed(3), (ma * 1e3 * L.count).toFixed(2), (flops / ma / 1e9).toFixed(1), median(r).toFixed(3)]);
      totals.set(`simdcnn ${label}`, (totals.get(`simdcnn ${label}`) ?? 0) + ma * L.count);
      if (L.net) {
        totals.set(`${L.net} simdcnn ${label}`, (totals.get(`${L.net} simdcnn ${label}`) ?? 0) + ma * L.count);
        if (label === 'direct') totals.set(`${L.net} onnxruntime-node`, (totals.get(`${L.net} onnxruntime-node`) ?? 0) + mb * L.count);
      }
      if (label === 'direct') {
        rows.push([L.name, L.count, 'onnxruntime-node', (mb * 1e3).toFixed(3), (mb * 1e3 * L.count).toFixed(2), (flops / mb / 1e9).toFixed(1), '']);
        totals.set('onnxruntime-node', (totals.get('onnxruntime-node') ?? 0) + mb * L.count);
      }
      // The best of ours per layer (what the planned model picks when Winograd wins).
      if (groups === 1 && (label === 'winograd' || sides.length === 1)) {
        const best = wino ? Math.min(ma, median(rows.filter((row) => row[0] === L.name && row[2] === 'simdcnn direct').map((row) => Number(row[3]) / 1e3))) : ma;
        totals.set('simdcnn best', (totals.get('simdcnn best') ?? 0) + best * L.count);
      }
    }
    await session.release();
    (x as Tensor).dispose();
    conv.dispose();
  }
  console.log(table(rows));
  console.log(`sum over ${set === 'grouped' ? 'the grouped' : 'ResNet-18'} convolutions (ms):`);
  for (const [k, v] of totals) console.log(`  ${k} ${(v * 1e3).toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * Where a planned forward spends its time, node by node: the model's graph (an nn model lowered
 * by lib/nn/lower.ts, or an ONNX file) optimised and planned as inference plans it, then each
 * node's steps timed where they run in a real forward (weights cold from DRAM, inputs warm from
 * the previous layer), medians over repeats, next to the median of the whole recorded plan (one
 * addon call per forward, as `model.call` and `OnnxModel.run` run it).
 *   npm run build:ts && node dist/bench/profile.js [--model resnet18|lenet5|alexnet | --onnx file.onnx]
 *     [--batch 1] [--threads 1] [--repeats 40] [--top 0]
 */
import { readFileSync } from 'node:fs';
import { models, noGrad, tidy, tensor, setNumThreads, manualSeed, cpuInfo, io, Tensor } from '../lib/index';
import type { Graph } from '../lib/graph/ir';
import { optimize } from '../lib/graph/passes';
import { ExecPlan, PreparedCache } from '../lib/graph/plan';
import { lowerModule } from '../lib/nn/planned';
import { persist } from '../lib/tensor';
import { median, nowS, table } from './util';

const argv = process.argv.slice(2);
const argOf = (k: string, d: string): string => {
  const i = argv.indexOf(k);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : d;
};
const modelName = argOf('--model', 'resnet18');
const onnxPath = argOf('--onnx', '');
const batch = Number(argOf('--batch', '1'));
const threads = Number(argOf('--threads', '1'));
const repeats = Number(argOf('--repeats', '40'));
const top = Number(argOf('--top', '0'));

const MODELS: Record<string, { make: () => ReturnType<typeof models.resnet18> | ReturnType<typeof models.lenet5> | ReturnType<typeof models.alexnet>; input: number[] }> = {
  resnet18: { make: () => models.resnet18(), input: [3, 224, 224] },
  alexnet: { make: () => models.alexnet(), input: [3, 224, 224] },
  lenet5: { make: () => models.lenet5(), input: [1, 28, 28] },
};

/** The graph to plan and its input's shape without the batch axis. */
async function graphOf(): Promise<{ name: string; graph: Graph; input: string; shape: number[]; release: () => void }> {
  if (onnxPath) {
    const model = await io.loadOnnx(readFileSync(onnxPath));
    // The loader's optimised graph (internal: a bench tool may look inside).
    const graph = (model as unknown as { graph: Graph }).graph;
    const inp = model.inputs[0];
    return { name: onnxPath, graph, input: inp.name, shape: (inp.shape ?? []).slice(1).map((d) => Number(d)), release: () => model.dispose() };
  }
  const spec = MODELS[modelName];
  if (!spec) throw new RangeError(`profile: --model must be one of ${Object.keys(MODELS).join(', ')}, got '${modelName}'`);
  manualSeed(1);
  const net = spec.make().eval();
  const graph = lowerModule(net);
  if (!graph) throw new Error(`profile: ${modelName} has no lowering`);
  const owned: Tensor[] = [];
  optimize(graph, { own: (d, s) => { const t = persist(Tensor.wrap(d, s)); owned.push(t); return t; } });
  return { name: modelName, graph, input: 'input', shape: spec.input, release: () => { for (const t of owned) t.dispose(); net.dispose(); } };
}

async function main(): Promise<void> {
  setNumThreads(threads);
  const { name, graph, input, shape, release } = await graphOf();
  const full = [batch, ...shape];
  const x = tensor(new Float32Array(full.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i * 0.37)), full);
  const feeds = new Map([[input, x]]);
  const cache = new PreparedCache();
  const shapes = new Map([[input, full]]);
  const stepwise = new ExecPlan(graph, shapes, { fast: true, winograd: true, record: false }, cache);
  const recorded = new ExecPlan(graph, shapes, { fast: true, winograd: true }, cache);
  const small = name === 'lenet5';
  const warm = small ? 2000 : 5;
  const per: number[][] = stepwise.summary.map(() => []);
  const whole: number[] = [];
  noGrad(() => {
    for (let i = 0; i < warm; i++) { tidy(() => { stepwise.timeSteps(feeds, nowS); recorded.run(feeds); }); }
    // Alternating: the recorded plan's time is the figure a user sees; the steps' show where it goes.
    for (let r = 0; r < repeats; r++) {
      stepwise.timeSteps(feeds, nowS).forEach((t, i) => per[i].push(t));
      const t0 = nowS();
      tidy(() => { recorded.run(feeds); });
      whole.push(nowS() - t0);
    }
  });
  const unit = small ? 1e6 : 1e3, u = small ? 'us' : 'ms';
  const med = per.map(median);
  const sum = med.reduce((a, b) => a + b, 0);
  let order = med.map((_, i) => i);
  if (top > 0) order = order.sort((a, b) => med[b] - med[a]).slice(0, top);
  const rows: (string | number)[][] = [['#', 'node', 'algorithm', `median ${u}`, 'share']];
  for (const i of order) {
    const s = stepwise.summary[i];
    rows.push([i, s.node, s.algo, (med[i] * unit).toFixed(3), `${((100 * med[i]) / sum).toFixed(1)}%`]);
  }
  console.log(`${name} planned forward, input ${full.join('x')}, ${threads} thread(s), isa ${cpuInfo().isa}, ${repeats} repeats (medians)`);
  console.log(table(rows));
  console.log(`sum of the nodes' medians ${(sum * unit).toFixed(3)} ${u}; the recorded plan (one addon call) ${(median(whole) * unit).toFixed(3)} ${u}`);
  stepwise.dispose();
  recorded.dispose();
  cache.dispose();
  x.dispose();
  release();
}

main().catch((e) => { console.error(e); process.exitCode = 1; });

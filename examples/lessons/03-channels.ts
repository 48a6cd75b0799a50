/**
 * Convolution over channels: a filter has as many channels as its input, convolves each and sums
 * them into ONE map; the number of filters is the number of output channels. Parameter counts of
 * the seeds' examples (weights K*K*C*N plus N biases), from nn.Conv2d.numParameters().
 */
import * as path from 'path';
import { Tensor, nn, noGrad, ops, tensor, viz } from '../../lib/index';
import { Lesson, fmt, runAsScript } from './lesson';
import { E13_INPUT } from './seed';

/** A 32x32 colour picture: a red square, a green disc and blue vertical stripes on black. */
export function shapesImage(): Tensor {
  const H = 32, W = 32, d = new Float32Array(3 * H * W);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      if (i >= 4 && i < 14 && j >= 4 && j < 14) d[i * W + j] = 1;
      if ((i - 22) ** 2 + (j - 10) ** 2 <= 36) d[H * W + i * W + j] = 1;
      if (j >= 19 && j < 30 && i >= 3 && i < 29 && j % 4 < 2) d[2 * H * W + i * W + j] = 1;
    }
  }
  return tensor(d, [1, 3, H, W]);
}

/** Six hand-set 5x5x3 filters: vertical and horizontal edges (all channels), and one per colour. */
export function handFilters(): Tensor {
  const w = new Float32Array(6 * 3 * 25);
  const set = (f: number, c: number, fn: (i: number, j: number) => number) => {
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) w[((f * 3 + c) * 5 + i) * 5 + j] = fn(i, j);
  };
  for (let c = 0; c < 3; c++) {
    set(0, c, (_i, j) => (j < 2 ? 1 : j > 2 ? -1 : 0) / 10);
    set(1, c, (i) => (i < 2 ? 1 : i > 2 ? -1 : 0) / 10);
  }
  for (let c = 0; c < 3; c++) for (let f = 2; f < 5; f++) set(f, c, () => (c === f - 2 ? 1 : -0.5) / 25);
  for (let c = 0; c < 3; c++) set(5, c, (i, j) => (i === 2 && j === 2 ? 1 : 0));
  return tensor(w, [6, 3, 5, 5]);
}

export const lesson: Lesson = {
  name: '03-channels',
  title: 'Convolution over channels and filter counts',
  run(out, log) {
    // One 3-channel filter on a 3-channel input: the per-channel correlations summed into one map.
    const x3 = tensor([...E13_INPUT, ...E13_INPUT.map((v) => v % 3), ...E13_INPUT.map((v) => 9 - v)], [1, 3, 7, 7]);
    const k3 = tensor([3, 4, 4, 1, 0, 2, -1, 0, 3, 1, 0, -1, 1, 0, -1, 1, 0, -1, 0, 1, 0, 1, -4, 1, 0, 1, 0], [1, 3, 3, 3]);
    const whole = ops.conv2d(x3, k3, null);
    let parts = 0;
    const perChannel = [0, 1, 2].map((c) => {
      const xc = tensor(x3.data.subarray(c * 49, (c + 1) * 49), [1, 1, 7, 7]);
      const kc = tensor(k3.data.subarray(c * 9, (c + 1) * 9), [1, 1, 3, 3]);
      return ops.conv2d(xc, kc, null);
    });
    for (let i = 0; i < 25; i++) parts = Math.max(parts, Math.abs(whole.data[i] - perChannel.reduce((a, t) => a + t.data[i], 0)));
    log(`item 5: a 3x3x3 filter on a 7x7x3 input gives ONE 5x5 map ${JSON.stringify(whole.shape)}; ` +
      `it equals the sum of the three per-channel maps (largest difference ${parts})`);
    const count = (inC: number, outC: number, k: number, bias = true): number => new nn.Conv2d(inC, outC, k, { bias }).numParameters();
    const e15 = count(3, 10, 3), e40 = count(3, 10, 5), e18 = count(3, 6, 5), e18one = count(1, 6, 5);
    const e31 = [count(3, 6, 5), count(6, 10, 5)], e48 = count(128, 64, 3, false);
    log(`E15: 10 filters of 3x3x3 -> 10*(3*3*3 + 1) = ${fmt(e15)} parameters`);
    log(`E40: 10 filters of 5x5x3 -> 750 weights + 10 biases = ${fmt(e40)}`);
    log(`E18: 6 filters of 5x5 on a 32x32x3 input -> (5*5*3 + 1)*6 = ${fmt(e18)} (the seed's 156 = (5*5 + 1)*6 holds only for 1 channel: ${fmt(e18one)})`);
    const fc = 3072 * 4704;
    log(`E18: the same 32x32x3 -> 28x28x6 mapping as a fully connected layer: 3072*4704 = ${fmt(fc)} weights (${fmt(fc + 4704)} with biases)`);
    const a = noGrad(() => new nn.Conv2d(3, 6, 5).forward(tensor(new Float32Array(3 * 32 * 32), [1, 3, 32, 32])));
    const b = noGrad(() => new nn.Conv2d(6, 10, 5).forward(a));
    log(`E31/T5: 32x32x3 -> six 5x5x3 filters -> ${JSON.stringify(a.shape)} -> ten 5x5x6 -> ${JSON.stringify(b.shape)}; parameters ${fmt(e31[0])} and ${fmt(e31[1])}`);
    log(`E48: 3x3 kernels, 128 input channels, 64 filters: 3*3*128*64 = ${fmt(e48)} weights`);
    // Pictures: hand-set filters (edges, one per colour, identity) on a picture of shapes.
    const img = shapesImage();
    const conv = new nn.Conv2d(3, 6, 5, { padding: 2, bias: false });
    conv.weight.data.set(handFilters().data);
    const maps = noGrad(() => conv.forward(img));
    viz.image(img, path.join(out, 'input.png'), { scale: 8 });
    viz.filters(conv, path.join(out, 'filters.png'), { scale: 12 });
    viz.featureMaps(maps, path.join(out, 'feature-maps.png'), { cols: 3, colormap: 'rdbu', scale: 4,
      labels: ['vertical edge', 'horizontal edge', 'red', 'green', 'blue', 'centre tap'] });
    return { oneMapShape: whole.shape, perChannelSumDiff: parts, e15, e40, e18, e18OneChannel: e18one, e18fc: fc, e31, e31Shapes: [a.shape, b.shape], e48 };
  },
};

if (require.main === module) runAsScript(lesson);

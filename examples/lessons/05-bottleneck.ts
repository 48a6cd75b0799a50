/**
 * 1x1 convolutions: they change the channel count without touching H x W (one dot product over
 * the channels at every pixel, the same as a dense layer applied per location), so a bottleneck
 * (1x1 reduce, 3x3, 1x1 expand) costs far fewer weights than a plain 3x3.
 */
import * as path from 'path';
import { nn, noGrad, randn, tensor, viz, zeros } from '../../lib/index';
import { Lesson, fmt, runAsScript } from './lesson';
import { shapesImage } from './03-channels';

export const lesson: Lesson = {
  name: '05-bottleneck',
  title: '1x1 convolutions and the bottleneck',
  run(out, log) {
    const e25 = new nn.Conv2d(64, 32, 1, { padding: 'same' });
    const y25 = noGrad(() => e25.forward(zeros([1, 64, 56, 56])));
    log(`E25/E42: 56x56x64 through 32 filters of 1x1x64 -> ${JSON.stringify(y25.shape)} (32 filters, not the seed-003 "64"); ` +
      `${fmt(64 * 32)} weights + 32 biases = ${fmt(e25.numParameters())}`);
    const e50 = new nn.Conv2d(128, 32, 1);
    const y50 = noGrad(() => e50.forward(zeros([1, 128, 64, 64])));
    log(`E50: 1x1x128x32 on 256x256x128 -> 256x256x32 (shown here on 64x64: ${JSON.stringify(y50.shape)}); ${fmt(128 * 32)} weights, ${fmt(e50.numParameters())} with biases`);
    const bottleneck = new nn.Sequential(new nn.Conv2d(128, 32, 1, { bias: false }), new nn.Conv2d(32, 32, 3, { padding: 1, bias: false }),
      new nn.Conv2d(32, 128, 1, { bias: false }));
    const plain = new nn.Conv2d(128, 128, 3, { padding: 1, bias: false });
    log(`item 68: bottleneck 128 -> 32 -> 32 -> 128 (1x1, 3x3, 1x1): ${fmt(bottleneck.numParameters())} weights; a plain 3x3 128 -> 128: ${fmt(plain.numParameters())}`);
    // E43 / item 16: a 1x1 convolution with D filters is a dense layer 512 -> D at every location.
    const D = 4;
    const c1 = new nn.Conv2d(512, D, 1);
    const fc = new nn.Linear(512, D);
    fc.weight.data.set(c1.weight.data);
    fc.bias!.data.set(c1.bias!.data);
    const x = randn([1, 512, 5, 5], { seed: 4 });
    const yc = noGrad(() => c1.forward(x));
    let diff = 0;
    for (let p = 0; p < 25; p++) {
      const v = new Float32Array(512);
      for (let c = 0; c < 512; c++) v[c] = x.data[c * 25 + p];
      const yl = noGrad(() => fc.forward(tensor(v, [1, 512])));
      for (let d = 0; d < D; d++) diff = Math.max(diff, Math.abs(yl.data[d] - yc.data[d * 25 + p]));
    }
    log(`item 16: the 1x1 conv and the dense layer with the same weights agree at all 25 locations of a 5x5x512 map (largest difference ${diff.toExponential(1)})`);
    log(`E43: 100x100x512 with D 1x1x512 filters -> 100x100xD, ${fmt(512 * D + D)} parameters for D = ${D} (512*D + D), the same as a dense layer 512 -> D`);
    const img = shapesImage();
    const mix = new nn.Conv2d(3, 2, 1, { bias: false });
    mix.weight.data.set([1, 1, 0, 0, 0, 1]);
    const mixed = noGrad(() => mix.forward(img));
    viz.featureMaps(img, path.join(out, 'input-channels.png'), { labels: ['red', 'green', 'blue'], colormap: 'gray', scale: 4 });
    viz.featureMaps(mixed, path.join(out, 'after-1x1.png'), { labels: ['red+green', 'blue'], colormap: 'gray', scale: 4,
      title: '1x1 conv: 3 channels -> 2' });
    return { e25Shape: y25.shape, e25: e25.numParameters(), e50: e50.numParameters(), bottleneck: bottleneck.numParameters(),
      plain: plain.numParameters(), e43: 512 * D + D, perLocationDiff: diff };
  },
};

if (require.main === module) runAsScript(lesson);

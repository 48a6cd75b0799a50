/**
 * A residual block h' = f(W h + b) + h (seed 002): with W = 0 and b = 0 (or the body's last batch
 * norm scaled to 0) the block is the identity, which is why deep residual nets train well; when the
 * channels or the stride change, the shortcut is a 1x1 projection.
 */
import * as path from 'path';
import { models, nn, noGrad, ops, randn, viz } from '../../lib/index';
import { Lesson, fmt, runAsScript } from './lesson';

export const lesson: Lesson = {
  name: '10-residual',
  title: 'A residual block',
  run(out, log) {
    const x = ops.relu(randn([1, 4, 8, 8], { seed: 10 }));
    const conv = new nn.Conv2d(4, 4, 3, { padding: 1 });
    const block = new nn.Residual(new nn.Sequential(conv, new nn.ReLU()));
    conv.weight.data.fill(0); conv.bias!.data.fill(0);
    conv.weight.version++; conv.bias!.version++;
    const zeroW = noGrad(() => block.forward(x));
    let d0 = 0;
    for (let i = 0; i < x.size; i++) d0 = Math.max(d0, Math.abs(zeroW.data[i] - x.data[i]));
    log(`W = 0, b = 0: block(x) = relu(0) + x = x (largest difference ${d0})`);
    // The seed's "set W to the identity": then f(x) + x = 2x for x >= 0, not x.
    for (let c = 0; c < 4; c++) conv.weight.data[(c * 4 + c) * 9 + 4] = 1;
    conv.weight.version++;
    const idW = noGrad(() => block.forward(x));
    let ratio = 0;
    for (let i = 0; i < x.size; i++) if (x.data[i] > 0) ratio = Math.max(ratio, idW.data[i] / x.data[i]);
    log(`W = identity (the seed's suggestion): block(x) = relu(x) + x = ${ratio}x, not x: the identity needs W = 0`);
    const basic = new models.BasicBlock(64, 64, 1);
    const down = new models.BasicBlock(64, 128, 2);
    const bp = basic.numParameters(), dp = down.numParameters();
    log(`BasicBlock 64 -> 64: 2 * 3*3*64*64 + 2 * 2*64 (batch norms) = ${fmt(bp)} parameters, identity shortcut`);
    log(`BasicBlock 64 -> 128, stride 2: 3*3*64*128 + 3*3*128*128 + 1x1 projection 64*128 + 3 batch norms = ${fmt(dp)}`);
    const y = noGrad(() => down.eval().forward(randn([1, 64, 16, 16], { seed: 2 })));
    log(`its output: ${JSON.stringify(y.shape)} (the projection matches channels and stride)`);
    conv.weight.data.set(randn([4, 4, 3, 3], { seed: 3 }).data.map((v) => v * 0.3));
    conv.weight.version++;
    const body = noGrad(() => block.body.forward(x));
    const sum = noGrad(() => block.forward(x));
    viz.featureMaps(x, path.join(out, 'input.png'), { cols: 4, scale: 10, title: 'x' });
    viz.featureMaps(body, path.join(out, 'body.png'), { cols: 4, scale: 10, title: 'f(Wx + b)' });
    viz.featureMaps(sum, path.join(out, 'output.png'), { cols: 4, scale: 10, title: 'f(Wx + b) + x' });
    return { zeroWeightDiff: d0, identityWeightRatio: ratio, basic: bp, downsample: dp, downShape: y.shape };
  },
};

if (require.main === module) runAsScript(lesson);

/**
 * Dilation and receptive fields: a dilated 3x3 filter spans d(k-1)+1 pixels; three stacked 3x3
 * layers see 7x7, as one 7x7 layer does, with 27 instead of 49 weights per channel pair.
 */
import * as path from 'path';
import { nn, ops, receptiveField, viz, tensor } from '../../lib/index';
import { Lesson, fmt, grid, matrixLines, runAsScript } from './lesson';
import { e13Filter, e13Input } from './seed';

const conv = (k: number, o: nn.Conv2dLayerOptions = {}, c = 1) => new nn.Conv2d(c, c, k, o);

export const lesson: Lesson = {
  name: '04-dilation',
  title: 'Dilation and receptive fields',
  run(out, log) {
    const dil = grid(ops.conv2d(e13Input(), e13Filter(), null, { dilation: 2 }));
    log('E13 with dilation 2 (stride 1, no padding): the 3x3 filter spans 5x5, so 7 - 5 + 1 = 3');
    for (const l of matrixLines(dil)) log(l);
    const extents = [1, 2, 3].map((d) => d * (3 - 1) + 1);
    log(`dilated 3x3 extent d(k-1)+1 for d = 1, 2, 3: ${extents.join(', ')}`);
    const three = new nn.Sequential(conv(3), conv(3), conv(3));
    const seven = new nn.Sequential(conv(7));
    const stack = receptiveField(three, [1, 9, 9]).map((r) => r.size);
    const single = receptiveField(seven, [1, 9, 9]).map((r) => r.size);
    log(`E24: three 3x3 layers: receptive field ${stack.join(' -> ')}; one 7x7 layer: ${single.join('')}`);
    const C = 64;
    const w3 = 3 * new nn.Conv2d(C, C, 3, { bias: false }).numParameters(), w7 = new nn.Conv2d(C, C, 7, { bias: false }).numParameters();
    log(`E24: weights for C = ${C} channels in and out: three 3x3 = 27*C^2 = ${fmt(w3)}, one 7x7 = 49*C^2 = ${fmt(w7)} (27:49)`);
    const dilated = new nn.Sequential(conv(3), conv(3, { dilation: 2 }), conv(3, { dilation: 4 }));
    const dsizes = receptiveField(dilated, [1, 17, 17]).map((r) => r.size);
    log(`dilations 1, 2, 4 (3x3 each): receptive field ${dsizes.join(' -> ')}`);
    const e46 = new nn.Sequential(conv(3), new nn.MaxPool2d(2));
    const e46sizes = receptiveField(e46, [1, 5, 5]).map((r) => r.size);
    log(`E46: 5x5 input, 3x3 conv (stride 1) then 2x2 pooling: one output sees ${e46sizes[1]}x${e46sizes[1]} input pixels`);
    viz.receptiveField(three, [1, 9, 9], path.join(out, 'three-3x3.png'), { title: 'three 3x3 layers' });
    viz.receptiveField(seven, [1, 9, 9], path.join(out, 'one-7x7.png'), { title: 'one 7x7 layer' });
    viz.receptiveField(dilated, [1, 17, 17], path.join(out, 'dilated-1-2-4.png'), { title: '3x3 at dilation 1, 2, 4' });
    viz.receptiveField(e46, [1, 5, 5], path.join(out, 'conv-then-pool.png'), { title: '3x3 conv, 2x2 pool' });
    viz.image(tensor(dil.flat(), [3, 3]), path.join(out, 'e13-dilation2.png'), { values: true, colormap: 'viridis', title: 'dilation 2' });
    return { dilation2: dil, extents, stack, single, weights3x3: w3, weights7x7: w7, dilated: dsizes, e46: e46sizes[1] };
  },
};

if (require.main === module) runAsScript(lesson);

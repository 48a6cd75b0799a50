/** Max, average and min pooling on seed 001's 4x4 example (f = 2, s = 2: no parameters to learn). */
import * as path from 'path';
import { nn, ops, tensor, viz } from '../../lib/index';
import { Lesson, grid, matrixLines, runAsScript } from './lesson';
import { e16Input } from './seed';

export const lesson: Lesson = {
  name: '06-pooling',
  title: 'Max, average and min pooling (seed 001, 4x4 input)',
  run(out, log) {
    const x = e16Input();
    log('input:');
    for (const l of matrixLines(grid(x))) log(l);
    const r: Record<string, number[][]> = {
      max: grid(ops.maxPool2d(x, { kernelSize: 2, stride: 2 })),
      avg: grid(ops.avgPool2d(x, { kernelSize: 2, stride: 2 })),
      min: grid(ops.minPool2d(x, { kernelSize: 2, stride: 2 })),
      maxS1: grid(ops.maxPool2d(x, { kernelSize: 2, stride: 1 })),
      avgS1: grid(ops.avgPool2d(x, { kernelSize: 2, stride: 1 })),
      maxF3: grid(ops.maxPool2d(x, { kernelSize: 3, stride: 1 })),
    };
    const names: Record<string, string> = { max: 'max f2 s2', avg: 'average f2 s2', min: 'min f2 s2', maxS1: 'max f2 s1', avgS1: 'average f2 s1', maxF3: 'max f3 s1' };
    for (const [k, m] of Object.entries(r)) {
      log(`${names[k]}:`);
      for (const l of matrixLines(m)) log(l);
    }
    const global = { max: ops.globalMaxPool2d(x).data[0], mean: ops.globalAvgPool2d(x).data[0], min: ops.minPool2d(x, { kernelSize: 4 }).data[0] };
    log(`global max ${global.max}, global mean ${global.mean} (43/16), global min ${global.min}`);
    const params = new nn.MaxPool2d(2).numParameters() + new nn.AvgPool2d(2).numParameters() + new nn.MinPool2d(2).numParameters();
    log(`parameters of the three pooling layers: ${params} (nothing to learn); the channel count is kept`);
    viz.image(x, path.join(out, 'input.png'), { values: true, title: 'input 4x4', scale: 40 });
    for (const k of ['max', 'avg', 'min'] as const) {
      viz.image(tensor(r[k].flat(), [2, 2]), path.join(out, `${k}-pool.png`), { values: true, range: [0, 9], title: names[k], scale: 40 });
    }
    return { ...r, global, params };
  },
};

if (require.main === module) runAsScript(lesson);

/**
 * Convolution by hand: slide the 3x3 filter over seed 001's 7x7 input, multiply and add, at strides
 * 1, 2 and 3, and compare with ops.conv2d (a cross-correlation, as in every seed's example).
 */
import * as path from 'path';
import { ops, tensor, viz } from '../../lib/index';
import { Lesson, grid, matrixLines, runAsScript } from './lesson';
import { E13_FILTER, E13_INPUT, e13Filter, e13Input } from './seed';

/** The output of a valid (unpadded) cross-correlation at stride s, computed with loops. */
export function convolveByHand(x: number[], n: number, k: number[], f: number, s: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i + f <= n; i += s) {
    const row: number[] = [];
    for (let j = 0; j + f <= n; j += s) {
      let acc = 0;
      for (let a = 0; a < f; a++) for (let b = 0; b < f; b++) acc += x[(i + a) * n + (j + b)] * k[a * f + b];
      row.push(acc);
    }
    out.push(row);
  }
  return out;
}

export const lesson: Lesson = {
  name: '01-convolution',
  title: 'Convolution by hand vs ops.conv2d (seed 001, 7x7 input, 3x3 filter)',
  run(out, log) {
    const x = e13Input(), k = e13Filter();
    const first = E13_INPUT.slice(0, 3).map((v, b) => v * E13_FILTER[b]).reduce((a, v) => a + v, 0) +
      E13_INPUT.slice(7, 10).map((v, b) => v * E13_FILTER[3 + b]).reduce((a, v) => a + v, 0) +
      E13_INPUT.slice(14, 17).map((v, b) => v * E13_FILTER[6 + b]).reduce((a, v) => a + v, 0);
    log(`first output (top-left window): 2*3 + 3*4 + 7*4 + 6*1 + 6*0 + 9*2 + 3*(-1) + 4*0 + 8*3 = ${first}`);
    const result: Record<string, unknown> = { first };
    for (const s of [1, 2, 3]) {
      const hand = convolveByHand(E13_INPUT, 7, E13_FILTER, 3, s);
      const lib = grid(ops.conv2d(x, k, null, { stride: s }));
      const same = JSON.stringify(hand) === JSON.stringify(lib);
      const size = Math.floor((7 - 3) / s) + 1;
      log(`stride ${s}: output ${size}x${size} = floor((7 - 3)/${s}) + 1; by hand ${same ? '==' : '!='} ops.conv2d`);
      for (const l of matrixLines(lib)) log(l);
      if (!same) throw new Error(`lesson 01: stride ${s} by hand ${JSON.stringify(hand)} != ops.conv2d ${JSON.stringify(lib)}`);
      result[`stride${s}`] = lib;
      viz.image(tensor(lib.flat(), [size, size]), path.join(out, `output-stride${s}.png`), { values: true, colormap: 'viridis', title: `stride ${s}` });
    }
    log('stride 3 does not fit: (7 - 3)/3 + 1 = 2.33; PyTorch (and simdcnn) floor it to 2, dropping the last row and column');
    viz.image(x, path.join(out, 'input.png'), { values: true, title: 'input 7x7' });
    viz.image(k, path.join(out, 'filter.png'), { values: true, colormap: 'rdbu', range: [-4, 4], title: 'filter 3x3' });
    return result;
  },
};

if (require.main === module) runAsScript(lesson);

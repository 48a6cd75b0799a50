/**
 * Zero padding and the output-size formula out = floor((n + 2p - f)/s) + 1 (seeds 001, 002, 003,
 * 004), checked against the shapes ops.conv2d returns; "same" padding P = (F - 1)/2 at stride 1.
 */
import * as path from 'path';
import { ops, tensor, zeros, viz } from '../../lib/index';
import { Lesson, grid, matrixLines, runAsScript } from './lesson';
import { e13Filter, e13Input, E13_INPUT } from './seed';

export function outSize(n: number, f: number, p: number, s: number): number {
  return Math.floor((n + 2 * p - f) / s) + 1;
}

export const lesson: Lesson = {
  name: '02-padding',
  title: 'Padding and the output-size formula',
  run(out, log) {
    const cases: [string, number, number, number, number][] = [
      ['E23/E37: 7x7, 3x3 filter, p1, s1', 7, 3, 1, 1],
      ['E33: 7x7, 3x3 filter, p0, s1', 7, 3, 0, 1],
      ['E34: 7x7, 3x3 filter, p0, s2', 7, 3, 0, 2],
      ['E35: 7x7, 3x3 filter, p0, s3 (2.33, floored)', 7, 3, 0, 3],
      ['E47: 32x32, 5x5 filter, p0, s1', 32, 5, 0, 1],
      ['E7: 227x227, 11x11 filter, p0, s4 (AlexNet conv1)', 227, 11, 0, 4],
      ['E38: 32x32, 5x5 filter, p2 (same), s1', 32, 5, 2, 1],
    ];
    const sizes: Record<string, number> = {};
    for (const [label, n, f, p, s] of cases) {
      const formula = outSize(n, f, p, s);
      const y = ops.conv2d(zeros([1, 1, n, n]), zeros([1, 1, f, f]), null, { stride: s, padding: p });
      log(`${label}: floor((${n} + 2*${p} - ${f})/${s}) + 1 = ${formula}; ops.conv2d gives ${y.shape[2]}x${y.shape[3]}`);
      if (y.shape[2] !== formula) throw new Error(`lesson 02: ${label}: formula ${formula}, conv2d ${y.shape[2]}`);
      sizes[label.split(':')[0]] = formula;
    }
    const padded = [7 + 2 * 1, 7 + 2 * 2, 32 + 2 * 2];
    log(`E36: 7x7 padded by 1 -> ${padded[0]}x${padded[0]}, by 2 -> ${padded[1]}x${padded[1]}; E3: (32,32,3) padded by 2 -> (${padded[2]},${padded[2]},3)`);
    log(`E38: "same" padding P = (F - 1)/2: F=3 -> P=${(3 - 1) / 2}, F=5 -> P=${(5 - 1) / 2}`);
    const same = grid(ops.conv2d(e13Input(), e13Filter(), null, { padding: 1 }));
    log('E13 with padding 1 (stride 1) keeps 7x7:');
    for (const l of matrixLines(same)) log(l);
    const s2 = grid(ops.conv2d(e13Input(), e13Filter(), null, { padding: 1, stride: 2 }));
    log('E13 with padding 1, stride 2 -> 4x4:');
    for (const l of matrixLines(s2)) log(l);
    const withBorder = new Float32Array(81);
    for (let i = 0; i < 7; i++) for (let j = 0; j < 7; j++) withBorder[(i + 1) * 9 + j + 1] = E13_INPUT[i * 7 + j];
    viz.image(tensor(withBorder, [9, 9]), path.join(out, 'input-padded.png'), { values: true, title: '7x7 padded by 1' });
    viz.image(tensor(same.flat(), [7, 7]), path.join(out, 'output-same.png'), { values: true, colormap: 'viridis', title: 'p1 s1: 7x7' });
    return { sizes, padded, same, stride2pad1: s2 };
  },
};

if (require.main === module) runAsScript(lesson);

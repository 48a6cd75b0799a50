/**
 * Seed 001's LeNet-5-like table (Ng): shapes, activation sizes and parameters per layer from
 * Module.summary, beside the seed's parameter column and its errata (the seed forgets the input
 * channels and counts one bias per layer instead of one per filter or neuron).
 */
import * as path from 'path';
import { nn, viz } from '../../lib/index';
import { Lesson, fmt, runAsScript } from './lesson';

export function ngNetwork(): nn.Sequential {
  return new nn.Sequential({
    conv1: new nn.Conv2d(3, 8, 5), relu1: new nn.ReLU(), pool1: new nn.MaxPool2d(2),
    conv2: new nn.Conv2d(8, 16, 5), relu2: new nn.ReLU(), pool2: new nn.MaxPool2d(2),
    flatten: new nn.Flatten(),
    fc3: new nn.Linear(400, 120), relu3: new nn.ReLU(),
    fc4: new nn.Linear(120, 84), relu4: new nn.ReLU(),
    fc5: new nn.Linear(84, 10), softmax: new nn.Softmax(1),
  });
}

const SEED_PARAMS: Record<string, number> = { conv1: 208, conv2: 416, fc3: 48001, fc4: 10081, fc5: 841 };

export const lesson: Lesson = {
  name: '07-network-table',
  title: "Seed 001's network table (LeNet-5-like, 32x32x3 input), with its errata",
  run(out, log) {
    const net = ngNetwork();
    const s = net.summary([3, 32, 32]);
    const rows = s.rows.filter((r) => !/relu|flatten/.test(r.name));
    log(`${'layer'.padEnd(8)} ${'activation shape'.padEnd(18)} ${'size'.padStart(6)} ${'#params'.padStart(8)}  seed`);
    log(`${'input'.padEnd(8)} ${'[1,3,32,32]'.padEnd(18)} ${fmt(3072).padStart(6)} ${'0'.padStart(8)}  0`);
    const table: { name: string; shape: number[]; size: number; params: number }[] = [];
    for (const r of rows) {
      const seed = SEED_PARAMS[r.name];
      const mark = seed === undefined ? '0' : seed === r.params ? fmt(seed) : `${fmt(seed)} (wrong)`;
      log(`${r.name.padEnd(8)} ${JSON.stringify(r.outputShape).padEnd(18)} ${fmt(r.activationSize).padStart(6)} ${fmt(r.params).padStart(8)}  ${mark}`);
      table.push({ name: r.name, shape: r.outputShape, size: r.activationSize, params: r.params });
    }
    const seedTotal = Object.values(SEED_PARAMS).reduce((a, b) => a + b, 0);
    log(`total parameters: ${fmt(s.totalParams)} (the seed's column sums to ${fmt(seedTotal)})`);
    log('why: conv1 is (5*5*3 + 1)*8 = 608, not (5*5 + 1)*8 = 208; fc3 is 400*120 + 120 = 48,120, not 400*120 + 1');
    viz.receptiveField(net, [3, 32, 32], path.join(out, 'receptive-field.png'), { title: 'LeNet-5-like net, 32x32 input' });
    return { table, total: s.totalParams, seedTotal };
  },
};

if (require.main === module) runAsScript(lesson);

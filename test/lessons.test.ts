/**
 * examples/lessons: each lesson's numbers equal the worked examples of /work/shared/SEEDS.md (the
 * corrected values, written out here from SEEDS.md), its printed text shows them, and every
 * picture it writes decodes as a PNG of a sensible size that is not blank.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { lessons } from '../examples/lessons/index';
import type { Lesson } from '../examples/lessons/lesson';

const root = mkdtempSync(join(tmpdir(), 'simdcnn-lessons-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(name: string): { r: Record<string, unknown>; text: string; dir: string } {
  const l = lessons.find((x) => x.name === name) as Lesson;
  const lines: string[] = [];
  const dir = join(root, name);
  const r = l.run(dir, (s) => lines.push(s));
  return { r, text: lines.join('\n'), dir };
}

/** Every file the lesson wrote is a PNG (or SVG) that is not blank. */
function checkPictures(dir: string, atLeast: number): void {
  const files = readdirSync(dir);
  expect(files.filter((f) => f.endsWith('.png')).length).toBeGreaterThanOrEqual(atLeast);
  for (const f of files) {
    if (f.endsWith('.svg')) {
      expect(readFileSync(join(dir, f), 'utf8').startsWith('<svg ')).toBe(true);
      continue;
    }
    const png = PNG.sync.read(readFileSync(join(dir, f)));
    expect(png.width, f).toBeGreaterThanOrEqual(16);
    expect(png.height, f).toBeGreaterThanOrEqual(16);
    let s = 0, s2 = 0;
    const n = png.width * png.height;
    for (let i = 0; i < n; i++) { const g = png.data[4 * i] + png.data[4 * i + 1] + png.data[4 * i + 2]; s += g; s2 += g * g; }
    expect(s2 / n - (s / n) ** 2, `${f} is blank`).toBeGreaterThan(0);
  }
}

describe('lessons print the seeds’ worked examples', () => {
  it('there is one lesson per concept of issue 16, with distinct folders', () => {
    expect(lessons.map((l) => l.name)).toEqual(['01-convolution', '02-padding', '03-channels', '04-dilation', '05-bottleneck',
      '06-pooling', '07-network-table', '08-lenet5', '09-architectures', '10-residual', '11-training']);
  });

  it('01 convolution (E13): 91; strides 1, 2, 3', () => {
    const { r, text, dir } = run('01-convolution');
    expect(r.first).toBe(91);
    expect(r.stride1).toEqual([[91, 80, 100, 84, 88], [99, 106, 126, 92, 77], [69, 98, 91, 93, 117], [80, 79, 87, 93, 61], [44, 72, 72, 63, 74]]);
    expect(r.stride2).toEqual([[91, 100, 88], [69, 91, 117], [44, 72, 74]]);
    expect(r.stride3).toEqual([[91, 84], [80, 93]]);
    expect(text).toContain('= 91');
    expect(text).toContain('   91 100  88\n   69  91 117\n   44  72  74');
    expect(text).toContain('stride 3: output 2x2');
    expect(text).toContain('2.33');
    checkPictures(dir, 5);
  });

  it('02 padding: the output-size formula (E7, E23, E33-E38, E47) and E13 padded', () => {
    const { r, text, dir } = run('02-padding');
    expect(r.sizes).toEqual({ 'E23/E37': 7, E33: 5, E34: 3, E35: 2, E47: 28, E7: 55, E38: 32 });
    expect(r.padded).toEqual([9, 11, 36]);
    expect(r.same).toEqual([[24, 37, 29, 31, 12, 26, -2], [44, 91, 80, 100, 84, 88, 37], [80, 99, 106, 126, 92, 77, 30],
      [50, 69, 98, 91, 93, 117, 54], [70, 80, 79, 87, 93, 61, 21], [31, 44, 72, 72, 63, 74, 43], [22, 39, 45, 59, 82, 81, 37]]);
    expect(r.stride2pad1).toEqual([[24, 29, 12, -2], [80, 106, 92, 30], [70, 79, 93, 21], [22, 45, 82, 37]]);
    expect(text).toContain('floor((227 + 2*0 - 11)/4) + 1 = 55');
    expect(text).toContain('F=3 -> P=1, F=5 -> P=2');
    checkPictures(dir, 2);
  });

  it('03 channels: 280, 760, 456 (not 156), 14,450,688, 456 and 1,510, 73,728', () => {
    const { r, text, dir } = run('03-channels');
    expect(r.oneMapShape).toEqual([1, 1, 5, 5]);
    expect(r.perChannelSumDiff).toBe(0);
    expect([r.e15, r.e40, r.e18, r.e18OneChannel, r.e18fc, r.e48]).toEqual([280, 760, 456, 156, 14450688, 73728]);
    expect(r.e31).toEqual([456, 1510]);
    expect(r.e31Shapes).toEqual([[1, 6, 28, 28], [1, 10, 24, 24]]);
    for (const s of ['= 280', '= 760', '= 456', '14,450,688', '14,455,392', '456 and 1,510', '73,728']) expect(text).toContain(s);
    checkPictures(dir, 3);
  });

  it('04 dilation: E13 at dilation 2, fields 3-5-7 vs 7, 27:49, dilations 1-2-4 -> 15, E46 -> 4', () => {
    const { r, text, dir } = run('04-dilation');
    expect(r.dilation2).toEqual([[82, 65, 120], [125, 102, 83], [89, 72, 106]]);
    expect(r.extents).toEqual([3, 5, 7]);
    expect(r.stack).toEqual([3, 5, 7]);
    expect(r.single).toEqual([7]);
    expect([r.weights3x3, r.weights7x7]).toEqual([27 * 64 * 64, 49 * 64 * 64]);
    expect(r.dilated).toEqual([3, 7, 15]);
    expect(r.e46).toBe(4);
    expect(text).toContain('3 -> 5 -> 7');
    expect(text).toContain('sees 4x4');
    checkPictures(dir, 5);
  });

  it('05 bottleneck: E25 2,080, E50 4,096 / 4,128, 17,408 vs 147,456, 1x1 conv == dense per location', () => {
    const { r, text, dir } = run('05-bottleneck');
    expect(r.e25Shape).toEqual([1, 32, 56, 56]);
    expect([r.e25, r.e50, r.bottleneck, r.plain, r.e43]).toEqual([2080, 4128, 17408, 147456, 2052]);
    expect(r.perLocationDiff as number).toBeLessThan(1e-5);
    for (const s of ['2,048 weights + 32 biases = 2,080', '4,096 weights', '17,408', '147,456']) expect(text).toContain(s);
    checkPictures(dir, 2);
  });

  it('06 pooling (E16): max, average, min and their stride-1 and global variants', () => {
    const { r, text, dir } = run('06-pooling');
    expect(r.max).toEqual([[9, 2], [6, 3]]);
    expect(r.avg).toEqual([[3.75, 1.25], [3.75, 2]]);
    expect(r.min).toEqual([[1, 1], [1, 1]]);
    expect(r.maxS1).toEqual([[9, 9, 2], [9, 9, 3], [6, 6, 3]]);
    expect(r.avgS1).toEqual([[3.75, 3.75, 1.25], [3.75, 3.75, 1.75], [3.75, 3, 2]]);
    expect(r.maxF3).toEqual([[9, 9], [9, 9]]);
    expect(r.global).toEqual({ max: 9, mean: 2.6875, min: 1 });
    expect(r.params).toBe(0);
    expect(text).toContain('average f2 s2:\n  3.75 1.25\n  3.75    2');
    checkPictures(dir, 4);
  });

  it('07 network table (E17/T4): 608, 3,216, 48,120, 10,164, 850; total 62,958 not 59,547', () => {
    const { r, text, dir } = run('07-network-table');
    const t = r.table as { name: string; shape: number[]; size: number; params: number }[];
    const by = Object.fromEntries(t.map((x) => [x.name, x]));
    expect(['conv1', 'pool1', 'conv2', 'pool2', 'fc3', 'fc4', 'fc5'].map((n) => by[n].size)).toEqual([6272, 1568, 1600, 400, 120, 84, 10]);
    expect(['conv1', 'conv2', 'fc3', 'fc4', 'fc5'].map((n) => by[n].params)).toEqual([608, 3216, 48120, 10164, 850]);
    expect(by.pool2.shape).toEqual([1, 16, 5, 5]);
    expect([r.total, r.seedTotal]).toEqual([62958, 59547]);
    expect(text).toMatch(/conv1 +\[1,8,28,28\] +6,272 +608 +208 \(wrong\)/);
    expect(text).toContain('total parameters: 62,958');
    checkPictures(dir, 1);
  });

  it('08 LeNet-5: 61,706 parameters, a trained digit and its feature maps', () => {
    const { r, text, dir } = run('08-lenet5');
    expect(r.perLayer).toEqual([156, 2416, 48120, 10164, 850]);
    expect(r.params).toBe(61706);
    expect(r.accuracy as number).toBeGreaterThan(0.8);
    expect(r.shapes).toEqual({ conv1: [1, 6, 28, 28], relu1: [1, 6, 28, 28], pool1: [1, 6, 14, 14], conv2: [1, 16, 10, 10], pool2: [1, 16, 5, 5] });
    expect(text).toContain('156 + 2,416 + 48,120 + 10,164 + 850 = 61,706');
    checkPictures(dir, 8);
  });

  it('09 AlexNet (T1) and ResNet-18 (T6)', () => {
    const { r, text, dir } = run('09-architectures');
    const layers = r.layers as { name: string; shape: number[]; params: number }[];
    expect(layers.map((l) => l.shape.slice(1))).toEqual([[96, 55, 55], [96, 27, 27], [256, 27, 27], [256, 13, 13], [384, 13, 13],
      [384, 13, 13], [256, 13, 13], [256, 6, 6], [4096], [4096], [1000]]);
    expect(layers.filter((l) => l.params > 0).map((l) => l.params)).toEqual([34944, 614656, 885120, 1327488, 884992, 37752832, 16781312, 4097000]);
    expect(r.total).toBe(62378344);
    expect(r.fc1).toBe(37752832);
    expect(r.fields).toEqual([11, 19, 51, 67, 99, 131, 163, 195]);
    expect(r.grouped).toBe(60965224);
    expect(r.torchvision).toBe(61100840);
    expect(r.resnet18).toBe(11689512);
    expect(r.resnetSizes).toEqual([112, 56, 56, 28, 14, 7, 1]);
    for (const s of ['total 62,378,344', '37,752,832', '60,965,224', '11,689,512']) expect(text).toContain(s);
    checkPictures(dir, 2);
  });

  it('10 residual block: W = 0 gives the identity, W = I gives 2x; BasicBlock counts', () => {
    const { r, text, dir } = run('10-residual');
    expect(r.zeroWeightDiff).toBe(0);
    expect(r.identityWeightRatio).toBe(2);
    expect(r.basic).toBe(2 * 9 * 64 * 64 + 4 * 64);
    expect(r.downsample).toBe(9 * 64 * 128 + 9 * 128 * 128 + 64 * 128 + 6 * 128);
    expect(r.downShape).toEqual([1, 128, 8, 8]);
    expect(text).toContain('the identity needs W = 0');
    checkPictures(dir, 3);
  });

  it('11 training (E5, E26): 4 iterations per epoch, 80 in 20 epochs; 1.1^10 = 2.5937', () => {
    const { r, text, dir } = run('11-training');
    expect([r.iterationsPerEpoch, r.totalIterations, r.epochs]).toEqual([4, 80, 20]);
    expect(r.finalValAccuracy as number).toBeGreaterThan(0.9);
    expect(r.drift as number).toBeCloseTo(2.5937, 4);
    expect(text).toContain('4 iterations per epoch; 20 epochs = 80 iterations');
    expect(text).toContain('1.1^10 = 2.5937');
    checkPictures(dir, 3);
  });
});

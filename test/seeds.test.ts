/**
 * The fully specified worked examples of /work/shared/SEEDS.md (corrected numbers), through the
 * public API, on both backends. Integer-valued fixtures are exact in float32, so those compare
 * with toEqual.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ops, tensor, setBackend, Tensor } from '../lib/index';
import { normalF32, prod } from './reference/data';
import { refOutSize, refTrueConv2dValid } from './reference/ops';

const BACKENDS = ['native', 'js'] as const;
afterAll(() => setBackend('native'));

const grid = (t: Tensor, rows: number, cols: number): number[][] => {
  const d = Array.from(t.toArray());
  return Array.from({ length: rows }, (_, i) => d.slice(i * cols, (i + 1) * cols));
};

// E13 (001 L49-57): Ng's strided-convolution example.
const E13_X = [
  2, 3, 7, 4, 6, 2, 9,
  6, 6, 9, 8, 7, 4, 3,
  3, 4, 8, 3, 8, 9, 7,
  7, 8, 3, 6, 6, 3, 4,
  4, 2, 1, 8, 3, 4, 6,
  3, 2, 4, 1, 9, 8, 3,
  0, 1, 3, 9, 2, 1, 4,
];
const E13_K = [3, 4, 4, 1, 0, 2, -1, 0, 3];
const E13_K_FLIPPED = E13_K.slice().reverse(); // flip both spatial axes of a 3x3 = reverse the 9 taps

// E16 (001 L121-145)
const E16_X = [1, 3, 2, 1, 2, 9, 1, 1, 1, 3, 2, 3, 5, 6, 1, 2];

describe.each(BACKENDS)('E13: 7x7 input, 3x3 kernel (%s backend)', (be) => {
  beforeEach(() => setBackend(be));
  const x = () => tensor(E13_X, [1, 1, 7, 7]);
  const k = () => tensor(E13_K, [1, 1, 3, 3]);

  it('first output (top-left window) is 91', () => {
    expect(ops.conv2d(x(), k()).toArray()[0]).toBe(91);
  });
  it('stride 1, p0 -> 5x5', () => {
    const y = ops.conv2d(x(), k(), null, { stride: 1 });
    expect(y.shape).toEqual([1, 1, 5, 5]);
    expect(grid(y, 5, 5)).toEqual([[91, 80, 100, 84, 88], [99, 106, 126, 92, 77], [69, 98, 91, 93, 117], [80, 79, 87, 93, 61], [44, 72, 72, 63, 74]]);
    expect(grid(y, 5, 5)[2][0]).toBe(69); // the window under the superscripts at stride 1
  });
  it('stride 2, p0 -> 3x3 [[91,100,88],[69,91,117],[44,72,74]] (not the lecture slide 83/127)', () => {
    const y = ops.conv2d(x(), k(), null, { stride: 2 });
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(grid(y, 3, 3)).toEqual([[91, 100, 88], [69, 91, 117], [44, 72, 74]]);
    expect(grid(y, 3, 3)[1][0]).toBe(69);
  });
  it('stride 3, p0 -> floor(2.33) = 2: [[91,84],[80,93]] (E35)', () => {
    const y = ops.conv2d(x(), k(), null, { stride: 3 });
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(grid(y, 2, 2)).toEqual([[91, 84], [80, 93]]);
  });
  it('stride 1, p1 ("same") -> 7x7', () => {
    const y = ops.conv2d(x(), k(), null, { padding: 1 });
    expect(y.shape).toEqual([1, 1, 7, 7]);
    expect(grid(y, 7, 7)).toEqual([[24, 37, 29, 31, 12, 26, -2], [44, 91, 80, 100, 84, 88, 37], [80, 99, 106, 126, 92, 77, 30],
      [50, 69, 98, 91, 93, 117, 54], [70, 80, 79, 87, 93, 61, 21], [31, 44, 72, 72, 63, 74, 43], [22, 39, 45, 59, 82, 81, 37]]);
    const same = ops.conv2d(x(), k(), null, { padding: 'same' });
    expect(Array.from(same.toArray())).toEqual(Array.from(y.toArray()));
  });
  it('stride 2, p1 -> 4x4', () => {
    const y = ops.conv2d(x(), k(), null, { stride: 2, padding: 1 });
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect(grid(y, 4, 4)).toEqual([[24, 29, 12, -2], [80, 106, 92, 30], [70, 79, 93, 21], [22, 45, 82, 37]]);
  });
  it('dilation 2, s1, p0 -> 3x3', () => {
    const y = ops.conv2d(x(), k(), null, { dilation: 2 });
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(grid(y, 3, 3)).toEqual([[82, 65, 120], [125, 102, 83], [89, 72, 106]]);
  });
  it('true (flipped-kernel) convolution = conv2d with the kernel flipped (item 8)', () => {
    const s1 = ops.conv2d(x(), tensor(E13_K_FLIPPED, [1, 1, 3, 3]));
    const want1 = [[72, 82, 108, 101, 115], [92, 83, 98, 92, 89], [45, 67, 73, 71, 79], [59, 57, 55, 99, 103], [34, 46, 71, 77, 48]];
    expect(grid(s1, 5, 5)).toEqual(want1);
    expect(refTrueConv2dValid(E13_X, 7, 7, E13_K, 3, 3, 1)).toEqual(want1); // the definition agrees with SEEDS.md
    const s2 = ops.conv2d(x(), tensor(E13_K_FLIPPED, [1, 1, 3, 3]), null, { stride: 2 });
    expect(grid(s2, 3, 3)).toEqual([[72, 108, 115], [45, 73, 79], [34, 71, 48]]);
    expect(refTrueConv2dValid(E13_X, 7, 7, E13_K, 3, 3, 2)).toEqual([[72, 108, 115], [45, 73, 79], [34, 71, 48]]);
  });
  it('bias is added once per output (E13 stride 2 + bias 0.5)', () => {
    const y = ops.conv2d(x(), k(), tensor([0.5], [1]), { stride: 2 });
    expect(grid(y, 3, 3)).toEqual([[91.5, 100.5, 88.5], [69.5, 91.5, 117.5], [44.5, 72.5, 74.5]]);
  });
});

describe.each(BACKENDS)('E16: 4x4 pooling (%s backend)', (be) => {
  beforeEach(() => setBackend(be));
  const x = () => tensor(E16_X, [1, 1, 4, 4]);
  it('max f2 s2 -> [[9,2],[6,3]]', () => expect(grid(ops.maxPool2d(x(), { kernelSize: 2, stride: 2 }), 2, 2)).toEqual([[9, 2], [6, 3]]));
  it('stride defaults to the kernel size (item 25)', () => expect(grid(ops.maxPool2d(x(), { kernelSize: 2 }), 2, 2)).toEqual([[9, 2], [6, 3]]));
  it('avg f2 s2 -> [[3.75,1.25],[3.75,2.0]]', () => expect(grid(ops.avgPool2d(x(), { kernelSize: 2, stride: 2 }), 2, 2)).toEqual([[3.75, 1.25], [3.75, 2.0]]));
  it('min f2 s2 -> [[1,1],[1,1]]', () => expect(grid(ops.minPool2d(x(), { kernelSize: 2, stride: 2 }), 2, 2)).toEqual([[1, 1], [1, 1]]));
  it('max f2 s1 -> 3x3', () => expect(grid(ops.maxPool2d(x(), { kernelSize: 2, stride: 1 }), 3, 3)).toEqual([[9, 9, 2], [9, 9, 3], [6, 6, 3]]));
  it('avg f2 s1 -> 3x3', () => expect(grid(ops.avgPool2d(x(), { kernelSize: 2, stride: 1 }), 3, 3)).toEqual([[3.75, 3.75, 1.25], [3.75, 3.75, 1.75], [3.75, 3.0, 2.0]]));
  it('min f2 s1 -> all ones', () => expect(grid(ops.minPool2d(x(), { kernelSize: 2, stride: 1 }), 3, 3)).toEqual([[1, 1, 1], [1, 1, 1], [1, 1, 1]]));
  it('max f3 s1 -> [[9,9],[9,9]]', () => expect(grid(ops.maxPool2d(x(), { kernelSize: 3, stride: 1 }), 2, 2)).toEqual([[9, 9], [9, 9]]));
  it('global max 9, global mean 43/16 = 2.6875, global min 1', () => {
    expect(ops.globalMaxPool2d(x()).shape).toEqual([1, 1, 1, 1]);
    expect(ops.globalMaxPool2d(x()).item()).toBe(9);
    expect(ops.globalAvgPool2d(x()).item()).toBe(2.6875);
    expect(ops.minPool2d(x(), { kernelSize: 4 }).item()).toBe(1);
    expect(ops.maxPool2d(x(), { kernelSize: 4 }).item()).toBe(9);
    expect(ops.avgPool2d(x(), { kernelSize: 4 }).item()).toBe(2.6875);
  });
  it('pooling keeps the channel count and has no parameters (item 27)', () => {
    const y = ops.maxPool2d(tensor(normalF32(2 * 5 * 8 * 8, 3), [2, 5, 8, 8]), { kernelSize: 2 });
    expect(y.shape).toEqual([2, 5, 4, 4]);
  });
  it('E44 (lecture): CS231n slice -> [[6,8],[3,4]]', () => {
    const y = ops.maxPool2d(tensor([1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4], [1, 1, 4, 4]), { kernelSize: 2, stride: 2 });
    expect(grid(y, 2, 2)).toEqual([[6, 8], [3, 4]]);
  });
});

describe('output-size formula (E7, E8, E14, E22, E23, E35-E39, E47, dilation)', () => {
  it.each([
    ['E7 AlexNet conv1 227 k11 s4 -> 55', 227, 11, { stride: 4 }, 55],
    ['E8 AlexNet pool1 55 k3 s2 -> 27', 55, 3, { stride: 2 }, 27],
    ['E6 AlexNet pool3 13 k3 s2 -> 6', 13, 3, { stride: 2 }, 6],
    ['E6 seed stride 3 would give 4', 13, 3, { stride: 3 }, 4],
    ['E10 AlexNet pool2 27 k3 s2 -> 13', 27, 3, { stride: 2 }, 13],
    ['E10 conv2 27 k5 p2 -> 27', 27, 5, { padding: 2 }, 27],
    ['E10 conv3-5 13 k3 p1 -> 13', 13, 3, { padding: 1 }, 13],
    ['E19 224 k11 s4 -> floor(54.25) = 54', 224, 11, { stride: 4 }, 54],
    ['E23/E33 7 k3 -> 5', 7, 3, {}, 5],
    ['E23/E37 7 k3 p1 -> 7', 7, 3, { padding: 1 }, 7],
    ['E34 7 k3 s2 -> 3', 7, 3, { stride: 2 }, 3],
    ['E35 7 k3 s3 -> floor(2.33) = 2', 7, 3, { stride: 3 }, 2],
    ['E36 7 padded by 1 -> 9 (k1)', 7, 1, { padding: 1 }, 9],
    ['E36 7 padded by 2 -> 11 (k1)', 7, 1, { padding: 2 }, 11],
    ['E3 32 padded by 2 -> 36 (k1)', 32, 1, { padding: 2 }, 36],
    ['E38 k3 p1 keeps 32', 32, 3, { padding: 1 }, 32],
    ['E38 k5 p2 keeps 32', 32, 5, { padding: 2 }, 32],
    ['E47 32 k5 -> 28', 32, 5, {}, 28],
    ['E31 28 k5 -> 24', 28, 5, {}, 24],
    ['dilated extent d1 (3): 7 -> 5', 7, 3, { dilation: 1 }, 5],
    ['dilated extent d2 (5): 7 -> 3', 7, 3, { dilation: 2 }, 3],
    ['dilated extent d3 (7): 7 -> 1', 7, 3, { dilation: 3 }, 1],
    ['asymmetric padding [1,2]: 7 k3 -> 8', 7, 3, { padding: [1, 2] }, 8],
    ['ceilMode 7 k2 s2 -> 4', 7, 2, { stride: 2, ceilMode: true }, 4],
    ['ceilMode 5 k2 s2 p1 -> 3 (last window would start in padding)', 5, 2, { stride: 2, padding: 1, ceilMode: true }, 3],
    ['ceilMode 13 k3 s2 p1 -> 7', 13, 3, { stride: 2, padding: 1, ceilMode: true }, 7],
    ['ceilMode 14 k3 s2 p1 -> 8', 14, 3, { stride: 2, padding: 1, ceilMode: true }, 8],
  ] as [string, number, number, Record<string, unknown>, number][])('%s', (_n, I, K, o, want) => {
    expect(ops.outputSize(I, K, o as never)).toBe(want);
  });

  it('matches floor((I + 2p - d(k-1) - 1)/s) + 1 over a grid (and ceil with the PyTorch correction)', () => {
    let checked = 0;
    for (let I = 1; I <= 20; I++) for (let K = 1; K <= 5; K++) for (let s = 1; s <= 3; s++) for (let d = 1; d <= 3; d++) for (let p = 0; p <= 2; p++) {
      for (const ceilMode of [false, true]) {
        const want = refOutSize(I, K, s, p, p, d, ceilMode);
        const ctx = `I=${I} K=${K} s=${s} d=${d} p=${p} ceil=${ceilMode}`;
        if (want < 1) {
          expect(() => ops.outputSize(I, K, { stride: s, dilation: d, padding: p, ceilMode }), ctx).toThrow(RangeError);
        } else {
          expect(ops.outputSize(I, K, { stride: s, dilation: d, padding: p, ceilMode }), ctx).toBe(want);
          if (!ceilMode) expect(want, ctx).toBe(Math.floor((I + 2 * p - d * (K - 1) - 1) / s) + 1);
        }
        checked++;
      }
    }
    expect(checked).toBe(20 * 5 * 3 * 3 * 3 * 2);
  });

  it("'same' keeps the spatial size for k3, k5, k4 (even) and dilated kernels (E38, E25)", () => {
    for (const [k, d] of [[3, 1], [5, 1], [4, 1], [3, 2], [2, 3]]) {
      const y = ops.conv2d(tensor(normalF32(2 * 9 * 11, k * 10 + d), [1, 2, 9, 11]), tensor(normalF32(3 * 2 * k * k, 5), [3, 2, k, k]), null, { padding: 'same', dilation: d });
      expect(y.shape, `k${k} d${d}`).toEqual([1, 3, 9, 11]);
    }
  });
});

describe.each(BACKENDS)('shapes through real ops (E7/E8, E17 LeNet-5-like, E18, E20-E21, E25, E29-E31, E42-E43) (%s backend)', (be) => {
  beforeEach(() => setBackend(be));
  const rnd = (shape: number[], seed: number, std = 1) => tensor(normalF32(prod(shape), seed, 0, std), shape);

  it('E17 table: [1,3,32,32] -> conv5x8 [1,8,28,28] -> pool [1,8,14,14] -> conv5x16 [1,16,10,10] -> pool [1,16,5,5] -> 400 -> 120 -> 84 -> 10 (softmax)', () => {
    let x = rnd([1, 3, 32, 32], 1);
    x = ops.relu(ops.conv2d(x, rnd([8, 3, 5, 5], 2, 0.1), rnd([8], 3)));
    expect(x.shape).toEqual([1, 8, 28, 28]);
    expect(x.size).toBe(6272);
    x = ops.maxPool2d(x, { kernelSize: 2, stride: 2 });
    expect(x.shape).toEqual([1, 8, 14, 14]);
    expect(x.size).toBe(1568);
    x = ops.relu(ops.conv2d(x, rnd([16, 8, 5, 5], 4, 0.1), rnd([16], 5)));
    expect(x.shape).toEqual([1, 16, 10, 10]);
    expect(x.size).toBe(1600);
    x = ops.maxPool2d(x, { kernelSize: 2, stride: 2 });
    expect(x.shape).toEqual([1, 16, 5, 5]);
    x = ops.flatten(x);
    expect(x.shape).toEqual([1, 400]);
    x = ops.relu(ops.linear(x, rnd([120, 400], 6, 0.05), rnd([120], 7)));
    expect(x.shape).toEqual([1, 120]);
    x = ops.relu(ops.linear(x, rnd([84, 120], 8, 0.1), rnd([84], 9)));
    expect(x.shape).toEqual([1, 84]);
    const p = ops.softmax(ops.linear(x, rnd([10, 84], 10, 0.1), rnd([10], 11)));
    expect(p.shape).toEqual([1, 10]);
    const s = Array.from(p.toArray()).reduce((a, b) => a + b, 0);
    expect(Math.abs(s - 1)).toBeLessThan(1e-5);
  });

  it('E18/E20/E29/E30: 32x32x3 with one 5x5x3 filter -> 28x28x1; six -> [1,6,28,28] (4704 values)', () => {
    const x = rnd([1, 3, 32, 32], 12);
    expect(ops.conv2d(x, rnd([1, 3, 5, 5], 13)).shape).toEqual([1, 1, 28, 28]);
    const y = ops.conv2d(x, rnd([6, 3, 5, 5], 14));
    expect(y.shape).toEqual([1, 6, 28, 28]);
    expect(y.size).toBe(4704);
    expect(x.size).toBe(3072);
    // E31: then ten 5x5x6 filters -> 24x24x10
    expect(ops.conv2d(y, rnd([10, 6, 5, 5], 15)).shape).toEqual([1, 10, 24, 24]);
  });

  it('E21/E33/E34: 7x7x3 with a 3x3x3 filter -> 5x5 at stride 1, 3x3 at stride 2', () => {
    const x = rnd([1, 3, 7, 7], 16), w = rnd([1, 3, 3, 3], 17);
    expect(ops.conv2d(x, w).shape).toEqual([1, 1, 5, 5]);
    expect(ops.conv2d(x, w, null, { stride: 2 }).shape).toEqual([1, 1, 3, 3]);
    expect(ops.conv2d(x, w, null, { padding: 1 }).shape).toEqual([1, 1, 7, 7]); // E23 padded to 9x9
  });

  it('E25/E42: 56x56x64 with 32 filters 1x1 (same) -> [1,32,56,56]', () => {
    const y = ops.conv2d(rnd([1, 64, 56, 56], 18), rnd([32, 64, 1, 1], 19), null, { padding: 'same' });
    expect(y.shape).toEqual([1, 32, 56, 56]);
  });

  it('E43: [1,512,20,20] with D=4 filters 1x1x512 -> [1,4,20,20]', () => {
    expect(ops.conv2d(rnd([1, 512, 20, 20], 20), rnd([4, 512, 1, 1], 21)).shape).toEqual([1, 4, 20, 20]);
  });

  it('E3: (32,32,3) padded by 2 -> (36,36,3): identity 1x1 conv with padding 2 puts x inside a zero border', () => {
    const xd = normalF32(3 * 32 * 32, 22);
    const eye = new Float32Array(9); eye[0] = eye[4] = eye[8] = 1;
    const y = ops.conv2d(tensor(xd, [1, 3, 32, 32]), tensor(eye, [3, 3, 1, 1]), null, { padding: 2 });
    expect(y.shape).toEqual([1, 3, 36, 36]);
    const d = y.toArray();
    for (let c = 0; c < 3; c++) for (let h = 0; h < 36; h++) for (let w = 0; w < 36; w++) {
      const inside = h >= 2 && h < 34 && w >= 2 && w < 34;
      const want = inside ? xd[(c * 32 + h - 2) * 32 + (w - 2)] : 0;
      if (d[(c * 36 + h) * 36 + w] !== want) throw new Error(`E3 mismatch at c${c} h${h} w${w}: ${d[(c * 36 + h) * 36 + w]} vs ${want}`);
    }
  });

  it('E2: colour 39x31 photo is [1,3,39,31]; grayscale [1,1,39,31]; conv channel check uses C', () => {
    expect(rnd([1, 3, 39, 31], 23).shape).toEqual([1, 3, 39, 31]);
    expect(ops.conv2d(rnd([1, 1, 39, 31], 24), rnd([2, 1, 3, 3], 25)).shape).toEqual([1, 2, 37, 29]);
  });
});

describe('E7/E8/E10 through real native ops', () => {
  beforeEach(() => setBackend('native'));
  it('[1,3,227,227] conv 96x11x11 s4 -> [1,96,55,55] -> maxPool 3 s2 -> [1,96,27,27]', () => {
    const x = tensor(normalF32(3 * 227 * 227, 26), [1, 3, 227, 227]);
    const y = ops.conv2d(x, tensor(normalF32(96 * 3 * 121, 27, 0, 0.05), [96, 3, 11, 11]), null, { stride: 4 });
    expect(y.shape).toEqual([1, 96, 55, 55]);
    expect(y.size).toBe(290400); // E19's corrected neuron count
    const p = ops.maxPool2d(y, { kernelSize: 3, stride: 2 });
    expect(p.shape).toEqual([1, 96, 27, 27]);
    const q = ops.maxPool2d(tensor(normalF32(256 * 13 * 13, 28), [1, 256, 13, 13]), { kernelSize: 3, stride: 2 });
    expect(q.shape).toEqual([1, 256, 6, 6]); // E6 corrected stride 2
  });
});

describe.each(BACKENDS)('BN fixture (item 49/50) (%s backend)', (be) => {
  beforeEach(() => setBackend(be));
  const run = (eps: number, momentum = 0.1) => {
    const rm = tensor([0], [1]), rv = tensor([1], [1]);
    const y = ops.batchNorm2d(tensor([1, 2, 3, 4], [1, 1, 2, 2]), { runningMean: rm, runningVar: rv, training: true, eps, momentum });
    return { y: Array.from(y.toArray()), rm: rm.item(), rv: rv.item() };
  };
  it('x=[1,2,3,4]: mean 2.5, biased var 1.25, normalised values at eps 1e-5', () => {
    const { y } = run(1e-5);
    const want = [-1.341635, -0.447212, 0.447212, 1.341635];
    y.forEach((v, i) => expect(Math.abs(v - want[i]), `y[${i}] = ${v}`).toBeLessThan(2e-6));
    // exact: (x - 2.5) / sqrt(1.25 + 1e-5)
    y.forEach((v, i) => expect(Math.abs(v - (i + 1 - 2.5) / Math.sqrt(1.25 + 1e-5))).toBeLessThan(1e-6));
  });
  it('at eps 0 the values are +-1.341641, +-0.447214', () => {
    const { y } = run(0);
    const want = [-1.341641, -0.447214, 0.447214, 1.341641];
    y.forEach((v, i) => expect(Math.abs(v - want[i]), `y[${i}] = ${v}`).toBeLessThan(2e-6));
  });
  it('running stats: mean 0.1*2.5, var 0.9*1 + 0.1*1.6667 (unbiased)', () => {
    const { rm, rv } = run(1e-5);
    expect(Math.abs(rm - 0.25)).toBeLessThan(1e-7);
    expect(Math.abs(rv - (0.9 + 0.1 * 5 / 3))).toBeLessThan(1e-6);
    const m1 = run(1e-5, 1);
    expect(Math.abs(m1.rm - 2.5)).toBeLessThan(1e-6);
    expect(Math.abs(m1.rv - 5 / 3)).toBeLessThan(1e-6);
  });
  it('eval uses the running statistics (item 50): with mean 2.5 / var 1.25 it reproduces the training output', () => {
    const y = ops.batchNorm2d(tensor([1, 2, 3, 4], [4, 1, 1, 1]), { runningMean: tensor([2.5], [1]), runningVar: tensor([1.25], [1]), eps: 1e-5 });
    const want = [-1.341635, -0.447212, 0.447212, 1.341635];
    Array.from(y.toArray()).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(2e-6));
  });
  it('gamma/beta restore: weight 2, bias 3', () => {
    const y = ops.batchNorm2d(tensor([1, 2, 3, 4], [1, 1, 4, 1]), { runningMean: tensor([0], [1]), runningVar: tensor([1], [1]), training: true, weight: tensor([2], [1]), bias: tensor([3], [1]) });
    const want = [-1.341635, -0.447212, 0.447212, 1.341635].map((v) => 2 * v + 3);
    Array.from(y.toArray()).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(4e-6));
  });
});

/** Integer data in [-4, 4]: every conv/linear result here is an exact small integer in float32. */
function intData(n: number, seed: number): Float32Array {
  const r = normalF32(n, seed);
  return r.map((v) => Math.max(-4, Math.min(4, Math.round(v * 2))));
}

describe.each(BACKENDS)('identities (items 2, 16, 17, 24, 40, 46; min pool) (%s backend)', (be) => {
  beforeEach(() => setBackend(be));

  it('item 16: FC == 1x1 conv on 1x1 inputs, and per-location FC on bigger inputs', () => {
    const N = 3, C = 17, D = 10;
    const xd = intData(N * C, 30), wd = intData(D * C, 31), bd = intData(D, 32);
    const fc = ops.linear(tensor(xd, [N, C]), tensor(wd, [D, C]), tensor(bd, [D]));
    const conv = ops.conv2d(tensor(xd, [N, C, 1, 1]), tensor(wd, [D, C]).reshape([D, C, 1, 1]), tensor(bd, [D]));
    expect(conv.shape).toEqual([N, D, 1, 1]);
    expect(Array.from(conv.toArray())).toEqual(Array.from(fc.toArray()));
    // bigger input [N, C, H, W]: output[n, :, h, w] = linear(x[n, :, h, w])
    const H = 4, W = 5;
    const xb = intData(N * C * H * W, 33);
    const yb = ops.conv2d(tensor(xb, [N, C, H, W]), tensor(wd, [D, C, 1, 1]), tensor(bd, [D])).toArray();
    for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      const v = new Float32Array(C);
      for (let c = 0; c < C; c++) v[c] = xb[((n * C + c) * H + h) * W + w];
      const l = ops.linear(tensor(v, [1, C]), tensor(wd, [D, C]), tensor(bd, [D])).toArray();
      for (let d = 0; d < D; d++) expect(yb[((n * D + d) * H + h) * W + w], `n${n} d${d} h${h} w${w}`).toBe(l[d]);
    }
  });

  it('item 17: translation equivariance (shift input by (2,3) -> output shifts by (2,3))', () => {
    const C = 3, O = 4, H = 16, W = 17, dy = 2, dx = 3;
    const base = new Float32Array(C * H * W);
    const core = intData(C * 8 * 8, 34);
    for (let c = 0; c < C; c++) for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) base[(c * H + i + 1) * W + j + 1] = core[(c * 8 + i) * 8 + j];
    const shifted = new Float32Array(C * H * W);
    for (let c = 0; c < C; c++) for (let i = 0; i + dy < H; i++) for (let j = 0; j + dx < W; j++) shifted[(c * H + i + dy) * W + j + dx] = base[(c * H + i) * W + j];
    const w = tensor(intData(O * C * 9, 35), [O, C, 3, 3]);
    const a = ops.conv2d(tensor(base, [1, C, H, W]), w, null, { padding: 1 }).toArray();
    const b = ops.conv2d(tensor(shifted, [1, C, H, W]), w, null, { padding: 1 }).toArray();
    for (let o = 0; o < O; o++) for (let i = 0; i + dy < H; i++) for (let j = 0; j + dx < W; j++) {
      expect(b[(o * H + i + dy) * W + j + dx], `o${o} i${i} j${j}`).toBe(a[(o * H + i) * W + j]);
    }
  });

  it('item 2: a batch equals the per-sample results stacked', () => {
    const N = 4, C = 5, H = 9, W = 9, O = 7;
    const xd = intData(N * C * H * W, 36), wd = intData(O * C * 9, 37);
    const y = ops.conv2d(tensor(xd, [N, C, H, W]), tensor(wd, [O, C, 3, 3]), null, { stride: 2, padding: 1 }).toArray();
    const per = O * 5 * 5;
    for (let n = 0; n < N; n++) {
      const yn = ops.conv2d(tensor(xd.slice(n * C * H * W, (n + 1) * C * H * W), [1, C, H, W]), tensor(wd, [O, C, 3, 3]), null, { stride: 2, padding: 1 }).toArray();
      expect(Array.from(y.slice(n * per, (n + 1) * per)), `sample ${n}`).toEqual(Array.from(yn));
    }
  });

  it('min pool == -maxPool(-x), exactly, over several geometries', () => {
    const shape = [2, 5, 11, 13];
    const xd = normalF32(prod(shape), 38);
    const neg = xd.map((v) => -v);
    for (const o of [{ kernelSize: 2 }, { kernelSize: 3, stride: 2, padding: 1 }, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true },
      { kernelSize: [2, 3] as [number, number], stride: [1, 2] as [number, number] }, { kernelSize: 4, stride: 3, padding: 2, ceilMode: true }]) {
      const mn = ops.minPool2d(tensor(xd, shape), o).toArray();
      const mx = ops.maxPool2d(tensor(neg, shape), o).toArray();
      expect(Array.from(mn), JSON.stringify(o)).toEqual(Array.from(mx).map((v) => -v));
    }
  });

  /** Which input pixels influence output[0,0,0,0]: the receptive field, by impulses. */
  function field(H: number, W: number, net: (x: Tensor) => Tensor): { rows: number; cols: number } {
    let rows = 0, cols = 0;
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      const d = new Float32Array(H * W); d[h * W + w] = 1;
      if (net(tensor(d, [1, 1, H, W])).toArray()[0] !== 0) { rows = Math.max(rows, h + 1); cols = Math.max(cols, w + 1); }
    }
    return { rows, cols };
  }
  const ones = (k: number) => tensor(new Float32Array(k * k).fill(1), [1, 1, k, k]);

  it('E46: 3x3 conv (s1) then 2x2 pool -> a 4x4 receptive field', () => {
    const f = field(8, 8, (x) => ops.avgPool2d(ops.conv2d(x, ones(3)), { kernelSize: 2 }));
    expect(f).toEqual({ rows: 4, cols: 4 });
  });
  it('E24/item 40: three 3x3 convs -> 7x7; dilations 1,2,4 -> 15x15', () => {
    expect(field(9, 9, (x) => ops.conv2d(ops.conv2d(ops.conv2d(x, ones(3)), ones(3)), ones(3)))).toEqual({ rows: 7, cols: 7 });
    expect(field(17, 17, (x) => ops.conv2d(ops.conv2d(ops.conv2d(x, ones(3)), ones(3), null, { dilation: 2 }), ones(3), null, { dilation: 4 }))).toEqual({ rows: 15, cols: 15 });
    // dilated extents d(k-1)+1 for k=3: 3, 5, 7
    for (const [d, ext] of [[1, 3], [2, 5], [3, 7]]) expect(field(9, 9, (x) => ops.conv2d(x, ones(3), null, { dilation: d }))).toEqual({ rows: ext, cols: ext });
  });
  it('item 5: a 3-channel filter sums its per-channel correlations into ONE map', () => {
    const xd = intData(3 * 6 * 6, 39), wd = intData(27, 40);
    const y = ops.conv2d(tensor(xd, [1, 3, 6, 6]), tensor(wd, [1, 3, 3, 3])).toArray();
    const parts = [0, 1, 2].map((c) => ops.conv2d(tensor(xd.slice(c * 36, (c + 1) * 36), [1, 1, 6, 6]), tensor(wd.slice(c * 9, (c + 1) * 9), [1, 1, 3, 3])).toArray());
    expect(Array.from(y)).toEqual(Array.from(parts[0]).map((v, i) => v + parts[1][i] + parts[2][i]));
  });
});

/**
 * summary(): per-leaf rows (output shape with batch, per-sample activation size, parameters) and
 * totals, checked against the corrected seed tables (SEEDS.md §2-§3).
 */
import { describe, expect, it } from 'vitest';
import { memory } from '../lib/index';
import * as nn from '../lib/nn/index';
import * as models from '../lib/models/index';

describe('summary', () => {
  it("Ng's LeNet-5-like table (SEEDS T4 / E17): corrected parameter counts, total 62,958", () => {
    const net = new nn.Sequential(
      new nn.Conv2d(3, 8, 5), new nn.MaxPool2d(2),
      new nn.Conv2d(8, 16, 5), new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(400, 120), new nn.Linear(120, 84), new nn.Linear(84, 10),
    );
    const s = net.summary([3, 32, 32]);
    expect(s.rows.map((r) => r.name)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(s.rows.map((r) => r.type)).toEqual(['Conv2d', 'MaxPool2d', 'Conv2d', 'MaxPool2d', 'Flatten', 'Linear', 'Linear', 'Linear']);
    expect(s.rows.map((r) => r.outputShape)).toEqual([[1, 8, 28, 28], [1, 8, 14, 14], [1, 16, 10, 10], [1, 16, 5, 5], [1, 400],
      [1, 120], [1, 84], [1, 10]]);
    expect(s.rows.map((r) => r.activationSize)).toEqual([6272, 1568, 1600, 400, 400, 120, 84, 10]);
    expect(s.rows.map((r) => r.params)).toEqual([608, 0, 3216, 0, 0, 48120, 10164, 850]);
    expect(s.totalParams).toBe(62958);
    expect(s.trainableParams).toBe(62958);
    expect(s.totalBytes).toBe(62958 * 4);
    const text = s.toString();
    if (process.env.SHOW_SUMMARY) console.log(text);
    expect(text).toContain('Total params: 62,958');
    expect(text).toContain('[1,8,28,28]');
    expect(text).toContain('6,272');
  });

  it('a batch in inputShape shows in outputShape but not in activationSize', () => {
    const s = new nn.Sequential(new nn.Conv2d(3, 8, 5), new nn.ReLU()).summary([4, 3, 32, 32]);
    expect(s.rows[0].outputShape).toEqual([4, 8, 28, 28]);
    expect(s.rows[0].activationSize).toBe(6272);
    expect(s.activationBytes).toBe(2 * 4 * 6272 * 4);
  });

  it('single-layer counts from the seeds: E15 280, E40 760, E18 456, E31 456 + 1,510, E25 2,080, E50 4,128, E48 73,728', () => {
    const count = (m: nn.Module, shape: number[]) => m.summary(shape).totalParams;
    expect(count(new nn.Conv2d(3, 10, 3), [3, 8, 8])).toBe(280); // E15
    const e40 = new nn.Conv2d(3, 10, 5, { padding: 2 }).summary([3, 32, 32]);
    expect(e40.totalParams).toBe(760); // E40: 750 weights + 10 biases
    expect(e40.rows[0].outputShape).toEqual([1, 10, 32, 32]);
    const e18 = new nn.Conv2d(3, 6, 5).summary([3, 32, 32]);
    expect(e18.totalParams).toBe(456); // E18 (the seed's 156 holds for one input channel only)
    expect(e18.rows[0].activationSize).toBe(4704); // 28*28*6
    expect(count(new nn.Conv2d(1, 6, 5), [1, 32, 32])).toBe(156);
    const e31 = new nn.Sequential(new nn.Conv2d(3, 6, 5), new nn.Conv2d(6, 10, 5)).summary([3, 32, 32]); // E31
    expect(e31.rows.map((r) => r.params)).toEqual([456, 1510]);
    expect(e31.rows.map((r) => r.outputShape)).toEqual([[1, 6, 28, 28], [1, 10, 24, 24]]);
    const e25 = new nn.Conv2d(64, 32, 1, { padding: 'same' }).summary([64, 56, 56]); // E25
    expect(e25.totalParams).toBe(2080);
    expect(e25.rows[0].outputShape).toEqual([1, 32, 56, 56]);
    const e50 = new nn.Conv2d(128, 32, 1);
    expect(e50.weight.size).toBe(4096); // E50: 4,096 weights + 32 biases
    expect(count(e50, [128, 16, 16])).toBe(4128);
    const e48 = new nn.Conv2d(128, 64, 3, { padding: 1 }); // E48: 3*3*128*64 weights
    expect(e48.weight.size).toBe(73728);
    expect(e48.numParameters()).toBe(73792);
    const e48b = new nn.Conv2d(64, 128, 3, { padding: 1, bias: false });
    expect(e48b.numParameters()).toBe(73728);
    // E24: three 3x3 C->C convolutions vs one 7x7: 27C^2 : 49C^2 weights.
    const C = 16;
    const three = new nn.Sequential(...[0, 1, 2].map(() => new nn.Conv2d(C, C, 3, { bias: false })));
    expect(three.numParameters() / new nn.Conv2d(C, C, 7, { bias: false }).numParameters()).toBeCloseTo(27 / 49, 12);
  });

  it('the seed-000 AlexNet spec (single tower) sums to 62,378,344 with the size flow of T1', () => {
    const net = new nn.Sequential(
      new nn.Conv2d(3, 96, 11, { stride: 4 }), new nn.ReLU(), new nn.MaxPool2d(3, { stride: 2 }),
      new nn.Conv2d(96, 256, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(3, { stride: 2 }),
      new nn.Conv2d(256, 384, 3, { padding: 1 }), new nn.ReLU(),
      new nn.Conv2d(384, 384, 3, { padding: 1 }), new nn.ReLU(),
      new nn.Conv2d(384, 256, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(3, { stride: 2 }),
      new nn.Flatten(),
      new nn.Linear(9216, 4096), new nn.ReLU(), new nn.Linear(4096, 4096), new nn.ReLU(), new nn.Linear(4096, 1000),
    );
    const s = net.summary([3, 227, 227]);
    const convs = s.rows.filter((r) => r.type === 'Conv2d' || r.type === 'Linear');
    expect(convs.map((r) => r.params)).toEqual([34944, 614656, 885120, 1327488, 884992, 37752832, 16781312, 4097000]);
    expect(s.totalParams).toBe(62378344);
    const pools = s.rows.filter((r) => r.type === 'MaxPool2d').map((r) => r.outputShape);
    expect(pools).toEqual([[1, 96, 27, 27], [1, 256, 13, 13], [1, 256, 6, 6]]);
    expect(convs.map((r) => r.outputShape)).toEqual([[1, 96, 55, 55], [1, 256, 27, 27], [1, 384, 13, 13], [1, 384, 13, 13],
      [1, 256, 13, 13], [1, 4096], [1, 4096], [1, 1000]]);
    expect(s.rows[0].activationSize).toBe(290400); // E19: 55*55*96 (the paper's 253,440 is wrong)
    net.dispose();
  });

  it('the two-GPU AlexNet with groups (SEEDS 66) has 60,965,224 parameters', () => {
    const net = new nn.Sequential(
      new nn.Conv2d(3, 96, 11, { stride: 4 }), new nn.MaxPool2d(3, { stride: 2 }),
      new nn.Conv2d(96, 256, 5, { padding: 2, groups: 2 }), new nn.MaxPool2d(3, { stride: 2 }),
      new nn.Conv2d(256, 384, 3, { padding: 1 }),
      new nn.Conv2d(384, 384, 3, { padding: 1, groups: 2 }),
      new nn.Conv2d(384, 256, 3, { padding: 1, groups: 2 }),
    );
    const fc = 9216 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000;
    expect(net.numParameters() + fc).toBe(60965224);
    net.dispose();
  });

  it('summary restores training mode, leaves BN statistics alone and frees its tensors', () => {
    const net = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.Dropout(0.5));
    const bn = net.at(1) as nn.BatchNorm2d;
    const live = memory().tensors;
    const s = net.summary([1, 5, 5]);
    expect(memory().tensors).toBe(live);
    expect(s.rows.map((r) => r.params)).toEqual([20, 4, 0]);
    expect(s.totalBytes).toBe((24 + 5) * 4); // params + running mean/var (2 + 2) + num_batches_tracked
    expect(net.training).toBe(true);
    expect(bn.numBatchesTracked.item()).toBe(0);
    expect(Array.from(bn.runningMean.toArray())).toEqual([0, 0]);
    expect(Object.prototype.hasOwnProperty.call(bn, 'forward')).toBe(false);
  });

  it('LeNet-5 (classic, 32x32x1) summary: 61,706 parameters', () => {
    const s = models.lenet5({ inputSize: 32 }).summary([1, 32, 32]);
    expect(s.totalParams).toBe(61706);
    expect(s.rows.filter((r) => r.params > 0).map((r) => r.params)).toEqual([156, 2416, 48120, 10164, 850]);
    expect(s.rows.at(-1)!.outputShape).toEqual([1, 10]);
  });

  it('bad input shapes are rejected', () => {
    const net = new nn.Conv2d(3, 4, 3);
    expect(() => net.summary([3, 0, 4])).toThrow(RangeError);
    expect(() => net.summary('3,32,32' as unknown as number[])).toThrow(TypeError);
    expect(() => net.summary([1, 32, 32])).toThrow(RangeError); // channel mismatch from the op
  });
});

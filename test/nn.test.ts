/**
 * nn layers and Module: parameters, state dicts (PyTorch keys, strict loading), train/eval,
 * containers, adaptive pooling, receptive fields and a finite-difference gradient check through
 * a small network.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, ops, tensor, zeros, ones, randn, tidy, manualSeed, noGrad, setBackend } from '../lib/index';
import * as nn from '../lib/nn/index';
import { receptiveField } from '../lib/nn/index';
import * as models from '../lib/models/index';

afterAll(() => setBackend('native'));

const arr = (t: Tensor) => Array.from(t.toArray());
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('layers', () => {
  it('Conv2d: shapes, PyTorch default init bounds, seeded reproducibility, forward = ops.conv2d', () => {
    manualSeed(7);
    const a = new nn.Conv2d(3, 8, 5, { padding: 2 });
    manualSeed(7);
    const b = new nn.Conv2d(3, 8, 5, { padding: 2 });
    expect(a.weight.shape).toEqual([8, 3, 5, 5]);
    expect(a.bias!.shape).toEqual([8]);
    expect(arr(a.weight)).toEqual(arr(b.weight));
    const bound = 1 / Math.sqrt(3 * 5 * 5);
    const w = arr(a.weight);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    // 600 uniform draws fill most of the interval.
    expect(Math.max(...w)).toBeGreaterThan(0.9 * bound);
    expect(Math.min(...w)).toBeLessThan(-0.9 * bound);
    expect(a.parameters().every((p) => p.requiresGrad)).toBe(true);
    const x = randn([2, 3, 9, 9], { seed: 1 });
    const y = noGrad(() => a.call(x));
    expect(y.shape).toEqual([2, 8, 9, 9]);
    expect(arr(y)).toEqual(arr(ops.conv2d(x, a.weight, a.bias, { padding: 2 })));
    const g = new nn.Conv2d(4, 8, 3, { groups: 2, bias: false, stride: 2, dilation: 2 });
    expect(g.weight.shape).toEqual([8, 2, 3, 3]);
    expect(g.bias).toBeNull();
    expect(Object.keys(g.stateDict())).toEqual(['weight']);
    expect(() => new nn.Conv2d(3, 8, 3, { groups: 2 })).toThrow(RangeError);
    expect(() => new nn.Conv2d(3, 8, 3, { padding: 'same', stride: 2 })).toThrow(/same/);
    expect(() => new nn.Conv2d(3, 0, 3)).toThrow(RangeError);
  });

  it('Linear: shapes, bounds, forward = ops.linear; Flatten', () => {
    const fc = new nn.Linear(400, 120);
    expect(fc.weight.shape).toEqual([120, 400]);
    expect(Math.max(...arr(fc.weight).map(Math.abs))).toBeLessThanOrEqual(1 / 20);
    expect(Math.max(...arr(fc.bias!).map(Math.abs))).toBeLessThanOrEqual(1 / 20);
    const x = randn([3, 16, 5, 5], { seed: 2 });
    const f = new nn.Flatten().call(x);
    expect(f.shape).toEqual([3, 400]);
    expect(arr(fc.call(f))).toEqual(arr(ops.linear(f, fc.weight, fc.bias)));
    expect(new nn.Linear(4, 2, { bias: false }).parameters().length).toBe(1);
  });

  it('activations and pools call their ops', () => {
    const x = tensor([1, 3, 2, 1, 2, 9, 1, 1, 1, 3, 2, 3, 5, 6, 1, 2], [1, 1, 4, 4]);
    expect(arr(new nn.MaxPool2d(2).call(x))).toEqual([9, 2, 6, 3]);
    expect(arr(new nn.AvgPool2d(2).call(x))).toEqual([3.75, 1.25, 3.75, 2]);
    expect(arr(new nn.MinPool2d(2).call(x))).toEqual([1, 1, 1, 1]);
    expect(arr(new nn.GlobalAvgPool2d().call(x))).toEqual([2.6875]);
    expect(arr(new nn.MaxPool2d(2, { stride: 1 }).call(x))).toEqual([9, 9, 2, 9, 9, 3, 6, 6, 3]);
    const v = tensor([-2, -0.5, 0, 1.5], [1, 4]);
    expect(arr(new nn.ReLU().call(v))).toEqual([0, 0, 0, 1.5]);
    expect(arr(new nn.LeakyReLU(0.1).call(v))).toEqual(arr(ops.leakyRelu(v, 0.1)));
    expect(arr(new nn.Sigmoid().call(v))).toEqual(arr(ops.sigmoid(v)));
    expect(arr(new nn.Tanh().call(v))).toEqual(arr(ops.tanh(v)));
    const s = arr(new nn.Softmax(1).call(v));
    expect(s.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(() => new nn.MaxPool2d(2, { padding: 2 })).toThrow(RangeError);
  });

  it('AdaptiveAvgPool2d follows PyTorch bins (5 -> 3: [0,2), [1,4), [3,5)) and reduces to exact pools', () => {
    const x = tensor(Array.from({ length: 25 }, (_, i) => i), [1, 1, 5, 5]);
    const y = new nn.AdaptiveAvgPool2d(3).call(x);
    expect(y.shape).toEqual([1, 1, 3, 3]);
    const d = arr(y);
    expect(d[0]).toBeCloseTo(3, 6); // rows 0-1, cols 0-1: (0+1+5+6)/4
    expect(d[1]).toBeCloseTo(4.5, 6); // rows 0-1, cols 1-3: (1+2+3+6+7+8)/6
    expect(d[4]).toBeCloseTo(12, 6); // rows 1-3, cols 1-3
    expect(d[8]).toBeCloseTo(21, 6); // rows 3-4, cols 3-4: (18+19+23+24)/4
    const r = randn([2, 3, 12, 8], { seed: 3 });
    expect(arr(new nn.AdaptiveAvgPool2d([6, 4]).call(r))).toEqual(arr(ops.avgPool2d(r, { kernelSize: [2, 2] })));
    expect(arr(new nn.AdaptiveAvgPool2d(1).call(r))).toEqual(arr(ops.globalAvgPool2d(r)));
    expect(new nn.AdaptiveAvgPool2d([null, 3]).call(r).shape).toEqual([2, 3, 12, 3]);
    // Output larger than input: overlapping bins of size 1 or 2 (PyTorch: 2 -> 3 gives [0,1), [0,2), [1,2)).
    const up = arr(new nn.AdaptiveAvgPool2d([1, 3]).call(tensor([2, 4], [1, 1, 1, 2])));
    expect(up).toEqual([2, 3, 4]);
  });

  it('LayerNorm and InstanceNorm2d parameters and forward', () => {
    const ln = new nn.LayerNorm([3, 4, 4]);
    expect(ln.weight!.shape).toEqual([3, 4, 4]);
    const x = randn([2, 3, 4, 4], { seed: 4 });
    expect(arr(ln.call(x))).toEqual(arr(ops.layerNorm(x, [3, 4, 4], ln.weight, ln.bias)));
    expect(new nn.InstanceNorm2d(3).parameters().length).toBe(0);
    const inorm = new nn.InstanceNorm2d(3, { affine: true });
    expect(Object.keys(inorm.stateDict())).toEqual(['weight', 'bias']);
    expect(arr(inorm.call(x))).toEqual(arr(ops.instanceNorm2d(x, inorm.weight, inorm.bias)));
  });
});

describe('BatchNorm2d and Dropout follow train/eval', () => {
  it('BatchNorm2d: buffers, state-dict keys, batch statistics in training, running statistics in eval', () => {
    const bn = new nn.BatchNorm2d(1);
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(bn.stateDict().num_batches_tracked.shape).toEqual([]);
    expect(bn.parameters().length).toBe(2);
    // SEEDS derived fixture: x = [1, 2, 3, 4], gamma 1, beta 0.
    const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    expect(bn.training).toBe(true);
    const y = arr(bn.call(x));
    [-1.341635, -0.447212, 0.447212, 1.341635].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 5));
    expect(bn.runningMean.item()).toBeCloseTo(0.25, 6); // 0.9 * 0 + 0.1 * 2.5
    expect(bn.runningVar.item()).toBeCloseTo(0.9 + 0.1 * (5 / 3), 6); // unbiased 1.6667
    expect(bn.numBatchesTracked.item()).toBe(1);
    bn.call(x);
    expect(bn.numBatchesTracked.item()).toBe(2);
    bn.eval();
    expect(bn.training).toBe(false);
    const rm = bn.runningMean.item(), rv = bn.runningVar.item();
    const e = arr(bn.call(x));
    [1, 2, 3, 4].forEach((v, i) => expect(e[i]).toBeCloseTo((v - rm) / Math.sqrt(rv + 1e-5), 5));
    expect(bn.numBatchesTracked.item()).toBe(2); // eval does not count or update
    expect(bn.runningMean.item()).toBe(rm);
  });

  it('BatchNorm2d momentum null is the cumulative average', () => {
    const bn = new nn.BatchNorm2d(1, { momentum: null });
    bn.call(tensor([1, 2, 3, 4], [1, 1, 2, 2]));
    bn.call(tensor([3, 4, 5, 6], [1, 1, 2, 2]));
    expect(bn.runningMean.item()).toBeCloseTo(3.5, 6); // mean of 2.5 and 4.5
  });

  it('Dropout is active only in training mode, and train()/eval() recurse', () => {
    manualSeed(11);
    const net = new nn.Sequential(new nn.Linear(4, 4), new nn.Dropout(0.5));
    const x = ones([64, 4]);
    const d = new nn.Dropout(0.5);
    const yt = arr(d.call(ones([1000])));
    const zeros0 = yt.filter((v) => v === 0).length;
    expect(zeros0).toBeGreaterThan(400);
    expect(zeros0).toBeLessThan(600);
    expect(yt.every((v) => v === 0 || v === 2)).toBe(true);
    d.eval();
    expect(arr(d.call(ones([1000]))).every((v) => v === 1)).toBe(true);
    net.eval();
    expect(net.modules().every((m) => m.training === false)).toBe(true);
    const a = arr(net.call(x)), b = arr(net.call(x));
    expect(a).toEqual(b);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    expect(arr(net.call(x))).not.toEqual(a);
  });
});

describe('Module', () => {
  it('Sequential names children 0.. or by key; parameters are deduplicated', () => {
    const seq = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU(), new nn.Linear(2, 2));
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(seq.namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    const named = new nn.Sequential({ conv: new nn.Conv2d(1, 2, 3), act: new nn.ReLU(), bn: new nn.BatchNorm2d(2) });
    expect(Object.keys(named.stateDict())).toEqual(['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'bn.running_mean',
      'bn.running_var', 'bn.num_batches_tracked']);
    expect(named.get('conv')).toBe(named.at(0));
    const shared = new nn.Linear(3, 3);
    const twice = new nn.Sequential(shared, new nn.Tanh(), shared);
    expect(twice.parameters().length).toBe(2);
    expect(Object.keys(twice.stateDict())).toEqual(['0.weight', '0.bias']);
    expect(twice.call(ones([1, 3])).shape).toEqual([1, 3]);
  });

  it('a user module finds property children and parameters; tidy never disposes them', () => {
    class Net extends nn.Module {
      conv = new nn.Conv2d(1, 4, 3);
      fc = new nn.Linear(4 * 4 * 4, 2);
      forward(x: Tensor): Tensor {
        return this.fc.call(ops.flatten(ops.relu(this.conv.call(x))));
      }
    }
    const net = tidy(() => new Net());
    expect(Object.keys(net.stateDict())).toEqual(['conv.weight', 'conv.bias', 'fc.weight', 'fc.bias']);
    const y = tidy(() => net.call(ones([2, 1, 6, 6])));
    expect(y.shape).toEqual([2, 2]);
    expect(net.parameters().every((p) => !p.disposed)).toBe(true);
    net.dispose();
    expect(net.parameters().every((p) => p.disposed)).toBe(true);
  });

  it('an array of modules is a ModuleList: keys blocks.0.*, blocks.1.*', () => {
    class Stack extends nn.Module {
      blocks = [new nn.Linear(2, 2), new nn.Linear(2, 2)];
      forward(x: Tensor): Tensor {
        return this.blocks.reduce((y, b) => b.call(y), x);
      }
    }
    const s = new Stack();
    expect(Object.keys(s.stateDict())).toEqual(['blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias']);
    expect(s.summary([2]).rows.map((r) => r.name)).toEqual(['blocks.0', 'blocks.1']);
  });

  it('loadStateDict copies into the existing tensors and is strict, modifying nothing on failure', () => {
    const make = () => new nn.Sequential(new nn.Conv2d(2, 3, 3), new nn.BatchNorm2d(3), new nn.Flatten(), new nn.Linear(12, 2));
    const a = make(), b = make();
    a.train();
    a.call(randn([2, 2, 4, 4], { seed: 5 })); // moves a's running stats
    const before = b.stateDict();
    const bWeight = before['0.weight'];
    b.loadStateDict(a.stateDict());
    expect(b.stateDict()['0.weight']).toBe(bWeight); // same tensor object, new values
    for (const [k, t] of Object.entries(a.stateDict())) expect(arr(b.stateDict()[k])).toEqual(arr(t));
    a.eval(); b.eval();
    const x = randn([1, 2, 4, 4], { seed: 6 });
    expect(arr(b.call(x))).toEqual(arr(a.call(x)));

    const c = make();
    const snapshot = Object.fromEntries(Object.entries(c.stateDict()).map(([k, t]) => [k, arr(t)]));
    const unchanged = () => {
      for (const [k, t] of Object.entries(c.stateDict())) expect(arr(t)).toEqual(snapshot[k]);
    };
    const good = a.stateDict();
    const { ['1.running_var']: _drop, ...missing } = good;
    expect(() => c.loadStateDict(missing)).toThrow(/missing keys: '1\.running_var'/);
    unchanged();
    expect(() => c.loadStateDict({ ...good, 'extra.weight': ones([1]) })).toThrow(/unexpected keys: 'extra\.weight'/);
    unchanged();
    expect(() => c.loadStateDict({ ...good, '3.weight': ones([2, 13]) })).toThrow(/'3\.weight' \(expected \[2,12\], got \[2,13\]\)/);
    unchanged();
    expect(() => c.loadStateDict({ ...good, '0.bias': [1, 2, 3] as unknown as Tensor })).toThrow(TypeError);
    unchanged();
    // Non-strict ignores missing/unexpected keys but still rejects shapes.
    c.loadStateDict({ '3.bias': tensor([5, 6], [2]), 'other': ones([1]) }, { strict: false });
    expect(arr(c.stateDict()['3.bias'])).toEqual([5, 6]);
    // A PyTorch scalar buffer saved as [1] still loads.
    c.loadStateDict({ ...good, '1.num_batches_tracked': tensor([7], [1]) });
    expect(c.stateDict()['1.num_batches_tracked'].item()).toBe(7);
  });

  it('predict batches, concatenates, runs in eval mode and restores the mode', () => {
    manualSeed(3);
    const net = new nn.Sequential(new nn.Linear(3, 4), new nn.Dropout(0.5), new nn.ReLU());
    const x = randn([10, 3], { seed: 9 });
    const full = net.predict(x, { batchSize: 100 });
    const chunked = net.predict(x, { batchSize: 3 });
    expect(chunked.shape).toEqual([10, 4]);
    expect(arr(chunked)).toEqual(arr(full));
    expect(net.training).toBe(true);
    net.eval();
    expect(arr(noGrad(() => net.call(x)))).toEqual(arr(full));
    expect(() => net.predict(x, { batchSize: 0 })).toThrow(RangeError);
  });

  it('toString prints the structure', () => {
    const s = new nn.Sequential(new nn.Conv2d(1, 6, 5), new nn.ReLU()).toString();
    expect(s).toContain('(0): Conv2d(1, 6, kernelSize=[5,5]');
    expect(s).toContain('(1): ReLU()');
  });
});

describe('Residual', () => {
  it('identity shortcut: a zero body returns x', () => {
    const body = new nn.Conv2d(2, 2, 3, { padding: 1 });
    body.weight.data.fill(0);
    body.bias!.data.fill(0);
    const r = new nn.Residual(body);
    const x = randn([1, 2, 5, 5], { seed: 10 });
    expect(arr(r.call(x))).toEqual(arr(x));
    expect(Object.keys(r.stateDict())).toEqual(['body.weight', 'body.bias']);
  });

  it('projection shortcut: body(x) + shortcut(x)', () => {
    const body = new nn.Sequential(new nn.Conv2d(2, 4, 3, { stride: 2, padding: 1 }), new nn.ReLU());
    const short = new nn.Conv2d(2, 4, 1, { stride: 2 });
    const r = new nn.Residual(body, short);
    const x = randn([2, 2, 6, 6], { seed: 12 });
    const y = r.call(x);
    expect(y.shape).toEqual([2, 4, 3, 3]);
    const ref = ops.add(body.call(x), short.call(x));
    expect(maxAbsDiff(arr(y), arr(ref))).toBe(0);
    expect(Object.keys(r.stateDict())).toEqual(['body.0.weight', 'body.0.bias', 'shortcut.weight', 'shortcut.bias']);
  });
});

describe('receptiveField', () => {
  const conv3 = (d = 1) => new nn.Conv2d(1, 1, 3, { dilation: d, padding: d });
  it('three 3x3 stride-1 convolutions: 3, 5, 7 (= one 7x7, SEEDS E24)', () => {
    const rf = receptiveField(new nn.Sequential(conv3(), new nn.ReLU(), conv3(), conv3()), [1, 16, 16]);
    expect(rf.map((r) => r.size)).toEqual([3, 5, 7]);
    expect(rf.map((r) => r.name)).toEqual(['0', '2', '3']);
    expect(rf.every((r) => r.jump === 1)).toBe(true);
    // padding 1 keeps the first field centred on pixel 0.
    expect(rf.map((r) => r.start)).toEqual([0, 0, 0]);
  });
  it('3x3 conv then 2x2 pool: 4 (SEEDS E46)', () => {
    const rf = receptiveField(new nn.Sequential(new nn.Conv2d(1, 1, 3), new nn.MaxPool2d(2)), [1, 5, 5]);
    expect(rf.map((r) => [r.size, r.jump, r.start])).toEqual([[3, 1, 1], [4, 2, 1.5]]);
  });
  it('3x3 with dilations 1, 2, 4: 3, 7, 15', () => {
    const rf = receptiveField(new nn.Sequential(conv3(1), conv3(2), conv3(4)), [1, 32, 32]);
    expect(rf.map((r) => r.size)).toEqual([3, 7, 15]);
  });
  it('the seed-000 AlexNet spec: 11, 19, 51, 67, 99, 131, 163, 195', () => {
    // Channels do not change the geometry: one channel keeps the trace fast.
    const net = new nn.Sequential(
      new nn.Conv2d(1, 1, 11, { stride: 4 }), new nn.ReLU(), new nn.MaxPool2d(3, { stride: 2 }),
      new nn.Conv2d(1, 1, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(3, { stride: 2 }),
      new nn.Conv2d(1, 1, 3, { padding: 1 }), new nn.Conv2d(1, 1, 3, { padding: 1 }), new nn.Conv2d(1, 1, 3, { padding: 1 }),
      new nn.MaxPool2d(3, { stride: 2 }),
    );
    const rf = receptiveField(net, [1, 227, 227]);
    expect(rf.map((r) => r.size)).toEqual([11, 19, 51, 67, 99, 131, 163, 195]);
    expect(rf.map((r) => r.jump)).toEqual([4, 8, 8, 16, 16, 16, 16, 32]);
    expect(rf[0].start).toBe(5);
    expect(net.training).toBe(true);
  });
  it('resnet18: the shortcut starts from its block input; the whole net sees 435 pixels', () => {
    const rf = receptiveField(models.resnet18(), [3, 224, 224]);
    const by = Object.fromEntries(rf.map((r) => [r.name, r]));
    expect(by['conv1'].size).toBe(7);
    expect(by['maxpool'].size).toBe(11);
    expect(by['layer1.0.conv2'].size).toBe(27);
    // The 1x1 projection reads layer1's output (field 43), not the 3x3 branch beside it.
    expect(by['layer1.1.conv2'].size).toBe(43);
    expect(by['layer2.0.downsample.0'].size).toBe(43);
    expect(by['layer2.0.downsample.0'].jump).toBe(8);
    expect(by['layer4.1.conv2'].size).toBe(435);
    expect(by['avgpool'].size).toBe(435 + 6 * 32);
  });
  it('non-square kernels report both axes', () => {
    const rf = receptiveField(new nn.Conv2d(1, 1, [3, 5], { stride: [1, 2] }), [1, 9, 9]);
    expect(rf[0].sizeHW).toEqual([3, 5]);
    expect(rf[0].jumpHW).toEqual([1, 2]);
  });
});

describe('gradients through the layers', () => {
  it('a small conv net matches central finite differences (float32)', () => {
    manualSeed(21);
    const net = new nn.Sequential(
      new nn.Conv2d(2, 3, 3, { padding: 1 }), new nn.BatchNorm2d(3), new nn.Tanh(),
      new nn.AdaptiveAvgPool2d(3), // 7 -> 3: overlapping bins, the custom op's backward
      new nn.Conv2d(3, 2, 2), new nn.Sigmoid(), new nn.AvgPool2d(2, { stride: 1 }),
      new nn.Flatten(), new nn.Linear(2, 3),
    );
    const x = randn([2, 2, 7, 7], { seed: 22 });
    x.requiresGrad = true;
    const target = randn([2, 3], { seed: 23 });
    const loss = () => ops.mseLoss(net.call(x), target);
    net.zeroGrad();
    tidy(() => { loss().backward(); });
    const h = 1e-2;
    const check = (name: string, t: Tensor) => {
      const g = arr(t.grad!);
      const d = t.data;
      const gMax = Math.max(...g.map(Math.abs));
      let worst = 0;
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        d[i] = v + h;
        const lp = noGrad(() => tidy(() => loss().item()));
        d[i] = v - h;
        const lm = noGrad(() => tidy(() => loss().item()));
        d[i] = v;
        const num = (lp - lm) / (2 * h);
        const err = Math.abs(num - g[i]) / (2e-5 + 1e-2 * Math.abs(num) + 1e-3 * gMax);
        worst = Math.max(worst, err);
      }
      expect(worst, `${name}: worst error ratio`).toBeLessThan(1);
    };
    for (const [name, p] of net.namedParameters()) {
      expect(p.grad, name).not.toBeNull();
      check(name, p);
    }
    check('x', x);
  });
});

describe('the js backend gives the same layers', () => {
  it('Sequential forward agrees across backends', () => {
    manualSeed(5);
    const net = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.AdaptiveAvgPool2d(3), new nn.Flatten(), new nn.Linear(36, 5));
    net.eval();
    const x = randn([2, 3, 10, 10], { seed: 1 });
    const a = arr(net.call(x));
    setBackend('js');
    const b = arr(net.call(x));
    setBackend('native');
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
  });
});

void zeros;

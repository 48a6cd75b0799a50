/**
 * models: torchvision-compatible structure (state-dict keys in torchvision's order), parameter
 * totals, forward shapes.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, ops, randn, noGrad, tidy, manualSeed, setBackend } from '../lib/index';
import * as nn from '../lib/nn/index';
import * as models from '../lib/models/index';

const finite = (t: Tensor) => Array.from(t.toArray()).every(Number.isFinite);

// torchvision.models.resnet18().state_dict().keys(), in order (122 keys).
const RESNET18_KEYS = [
  'conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked',
  'layer1.0.conv1.weight', 'layer1.0.bn1.weight', 'layer1.0.bn1.bias', 'layer1.0.bn1.running_mean',
  'layer1.0.bn1.running_var', 'layer1.0.bn1.num_batches_tracked', 'layer1.0.conv2.weight',
  'layer1.0.bn2.weight', 'layer1.0.bn2.bias', 'layer1.0.bn2.running_mean', 'layer1.0.bn2.running_var',
  'layer1.0.bn2.num_batches_tracked', 'layer1.1.conv1.weight', 'layer1.1.bn1.weight', 'layer1.1.bn1.bias',
  'layer1.1.bn1.running_mean', 'layer1.1.bn1.running_var', 'layer1.1.bn1.num_batches_tracked',
  'layer1.1.conv2.weight', 'layer1.1.bn2.weight', 'layer1.1.bn2.bias', 'layer1.1.bn2.running_mean',
  'layer1.1.bn2.running_var', 'layer1.1.bn2.num_batches_tracked', 'layer2.0.conv1.weight',
  'layer2.0.bn1.weight', 'layer2.0.bn1.bias', 'layer2.0.bn1.running_mean', 'layer2.0.bn1.running_var',
  'layer2.0.bn1.num_batches_tracked', 'layer2.0.conv2.weight', 'layer2.0.bn2.weight', 'layer2.0.bn2.bias',
  'layer2.0.bn2.running_mean', 'layer2.0.bn2.running_var', 'layer2.0.bn2.num_batches_tracked',
  'layer2.0.downsample.0.weight', 'layer2.0.downsample.1.weight', 'layer2.0.downsample.1.bias',
  'layer2.0.downsample.1.running_mean', 'layer2.0.downsample.1.running_var',
  'layer2.0.downsample.1.num_batches_tracked', 'layer2.1.conv1.weight', 'layer2.1.bn1.weight',
  'layer2.1.bn1.bias', 'layer2.1.bn1.running_mean', 'layer2.1.bn1.running_var',
  'layer2.1.bn1.num_batches_tracked', 'layer2.1.conv2.weight', 'layer2.1.bn2.weight', 'layer2.1.bn2.bias',
  'layer2.1.bn2.running_mean', 'layer2.1.bn2.running_var', 'layer2.1.bn2.num_batches_tracked',
  'layer3.0.conv1.weight', 'layer3.0.bn1.weight', 'layer3.0.bn1.bias', 'layer3.0.bn1.running_mean',
  'layer3.0.bn1.running_var', 'layer3.0.bn1.num_batches_tracked', 'layer3.0.conv2.weight',
  'layer3.0.bn2.weight', 'layer3.0.bn2.bias', 'layer3.0.bn2.running_mean', 'layer3.0.bn2.running_var',
  'layer3.0.bn2.num_batches_tracked', 'layer3.0.downsample.0.weight', 'layer3.0.downsample.1.weight',
  'layer3.0.downsample.1.bias', 'layer3.0.downsample.1.running_mean', 'layer3.0.downsample.1.running_var',
  'layer3.0.downsample.1.num_batches_tracked', 'layer3.1.conv1.weight', 'layer3.1.bn1.weight',
  'layer3.1.bn1.bias', 'layer3.1.bn1.running_mean', 'layer3.1.bn1.running_var',
  'layer3.1.bn1.num_batches_tracked', 'layer3.1.conv2.weight', 'layer3.1.bn2.weight', 'layer3.1.bn2.bias',
  'layer3.1.bn2.running_mean', 'layer3.1.bn2.running_var', 'layer3.1.bn2.num_batches_tracked',
  'layer4.0.conv1.weight', 'layer4.0.bn1.weight', 'layer4.0.bn1.bias', 'layer4.0.bn1.running_mean',
  'layer4.0.bn1.running_var', 'layer4.0.bn1.num_batches_tracked', 'layer4.0.conv2.weight',
  'layer4.0.bn2.weight', 'layer4.0.bn2.bias', 'layer4.0.bn2.running_mean', 'layer4.0.bn2.running_var',
  'layer4.0.bn2.num_batches_tracked', 'layer4.0.downsample.0.weight', 'layer4.0.downsample.1.weight',
  'layer4.0.downsample.1.bias', 'layer4.0.downsample.1.running_mean', 'layer4.0.downsample.1.running_var',
  'layer4.0.downsample.1.num_batches_tracked', 'layer4.1.conv1.weight', 'layer4.1.bn1.weight',
  'layer4.1.bn1.bias', 'layer4.1.bn1.running_mean', 'layer4.1.bn1.running_var',
  'layer4.1.bn1.num_batches_tracked', 'layer4.1.conv2.weight', 'layer4.1.bn2.weight', 'layer4.1.bn2.bias',
  'layer4.1.bn2.running_mean', 'layer4.1.bn2.running_var', 'layer4.1.bn2.num_batches_tracked', 'fc.weight',
  'fc.bias',
];

// torchvision.models.alexnet().state_dict().keys(), in order.
const ALEXNET_KEYS = [
  'features.0.weight', 'features.0.bias', 'features.3.weight', 'features.3.bias', 'features.6.weight', 'features.6.bias',
  'features.8.weight', 'features.8.bias', 'features.10.weight', 'features.10.bias',
  'classifier.1.weight', 'classifier.1.bias', 'classifier.4.weight', 'classifier.4.bias', 'classifier.6.weight', 'classifier.6.bias',
];

describe('resnet18', () => {
  const net = models.resnet18();

  it("has torchvision's 122 state-dict keys in torchvision's order and 11,689,512 parameters", () => {
    expect(RESNET18_KEYS.length).toBe(122);
    expect(Object.keys(net.stateDict())).toEqual(RESNET18_KEYS);
    expect(net.numParameters()).toBe(11689512);
    expect(net.parameters().length).toBe(62);
    expect(net.buffers().length).toBe(60); // 20 batch norms x (running_mean, running_var, num_batches_tracked)
    const sd = net.stateDict();
    expect(sd['conv1.weight'].shape).toEqual([64, 3, 7, 7]);
    expect(sd['layer2.0.downsample.0.weight'].shape).toEqual([128, 64, 1, 1]);
    expect(sd['layer4.1.conv2.weight'].shape).toEqual([512, 512, 3, 3]);
    expect(sd['fc.weight'].shape).toEqual([1000, 512]);
    expect(sd['layer3.0.bn1.num_batches_tracked'].shape).toEqual([]);
  });

  it('forward on [1, 3, 64, 64] gives [1, 1000] finite logits (eval), and trains in batch mode', () => {
    net.eval();
    const y = noGrad(() => net.call(randn([1, 3, 64, 64], { seed: 1 })));
    expect(y.shape).toEqual([1, 1000]);
    expect(finite(y)).toBe(true);
    net.train();
    const bn1 = net.bn1;
    tidy(() => {
      const loss = ops.crossEntropy(net.call(randn([2, 3, 64, 64], { seed: 2 })), [3, 7]);
      loss.backward();
    });
    expect(bn1.numBatchesTracked.item()).toBe(1);
    expect(net.conv1.weight.grad).not.toBeNull();
    expect(finite(net.fc.weight.grad!)).toBe(true);
    net.zeroGrad();
  });

  it('summary at 224: 112 -> 56 -> 28 -> 14 -> 7 -> 1; the shared relu appears at each call', () => {
    const s = net.summary([3, 224, 224]);
    const row = (name: string) => s.rows.find((r) => r.name === name)!;
    expect(row('conv1').outputShape).toEqual([1, 64, 112, 112]);
    expect(row('maxpool').outputShape).toEqual([1, 64, 56, 56]);
    expect(row('layer1.1.bn2').outputShape).toEqual([1, 64, 56, 56]);
    expect(row('layer2.0.downsample.0').outputShape).toEqual([1, 128, 28, 28]);
    expect(row('layer3.1.bn2').outputShape).toEqual([1, 256, 14, 14]);
    expect(row('layer4.1.bn2').outputShape).toEqual([1, 512, 7, 7]);
    expect(row('avgpool').outputShape).toEqual([1, 512, 1, 1]);
    expect(row('fc').outputShape).toEqual([1, 1000]);
    expect(s.rows.filter((r) => r.name === 'layer1.0.relu').length).toBe(2);
    expect(s.totalParams).toBe(11689512);
  });

  it('numClasses and resnet34', () => {
    expect(models.resnet18({ numClasses: 10 }).fc.weight.shape).toEqual([10, 512]);
    const r34 = models.resnet34();
    expect(r34.numParameters()).toBe(21797672);
    r34.dispose();
  });
});

describe('alexnet', () => {
  it("torchvision's keys, 61,100,840 parameters, Dropout at classifier 0 and 3, forward at 224", () => {
    const net = models.alexnet();
    expect(Object.keys(net.stateDict())).toEqual(ALEXNET_KEYS);
    expect(net.numParameters()).toBe(61100840);
    expect(net.classifier.at(0)).toBeInstanceOf(nn.Dropout);
    expect(net.classifier.at(3)).toBeInstanceOf(nn.Dropout);
    expect(net.avgpool).toBeInstanceOf(nn.AdaptiveAvgPool2d);
    const s = net.summary([3, 224, 224]);
    const shapes = Object.fromEntries(s.rows.map((r) => [r.name, r.outputShape]));
    expect(shapes['features.0']).toEqual([1, 64, 55, 55]);
    expect(shapes['features.2']).toEqual([1, 64, 27, 27]);
    expect(shapes['features.5']).toEqual([1, 192, 13, 13]);
    expect(shapes['features.12']).toEqual([1, 256, 6, 6]);
    expect(shapes['avgpool']).toEqual([1, 256, 6, 6]);
    expect(shapes['classifier.6']).toEqual([1, 1000]);
    expect(s.totalParams).toBe(61100840);
    net.dispose();
  });
});

describe('lenet5', () => {
  it('keys features.N / classifier.N, MNIST padding, logits', () => {
    manualSeed(1);
    const net = models.lenet5();
    expect(Object.keys(net.stateDict())).toEqual(['features.0.weight', 'features.0.bias', 'features.3.weight', 'features.3.bias',
      'classifier.0.weight', 'classifier.0.bias', 'classifier.2.weight', 'classifier.2.bias', 'classifier.4.weight', 'classifier.4.bias']);
    expect(net.numParameters()).toBe(61706);
    const y = net.call(randn([4, 1, 28, 28], { seed: 3 }));
    expect(y.shape).toEqual([4, 10]);
    expect(net.features.at(1)).toBeInstanceOf(nn.ReLU);
    expect(net.features.at(2)).toBeInstanceOf(nn.MaxPool2d);
    const s = net.summary([1, 28, 28]);
    expect(s.rows[0].outputShape).toEqual([1, 6, 28, 28]);
  });

  it('classic 32x32 variant, tanh / avg pooling, channels and classes', () => {
    const net = models.lenet5({ inputSize: 32, activation: 'tanh', pool: 'avg', inChannels: 3, numClasses: 5 });
    expect(net.features.at(1)).toBeInstanceOf(nn.Tanh);
    expect(net.features.at(2)).toBeInstanceOf(nn.AvgPool2d);
    expect((net.features.at(0) as nn.Conv2d).padding4).toEqual([0, 0, 0, 0]);
    expect(net.call(randn([2, 3, 32, 32], { seed: 4 })).shape).toEqual([2, 5]);
    expect(net.numParameters()).toBe(456 + 2416 + 48120 + 10164 + 84 * 5 + 5);
    expect(() => models.lenet5({ activation: 'gelu' as 'relu' })).toThrow(RangeError);
    expect(() => models.lenet5({ inputSize: 8 })).toThrow(RangeError);
  });

  it('the same outputs on the js backend', () => {
    const net = models.lenet5().eval();
    const x = randn([2, 1, 28, 28], { seed: 5 });
    const a = Array.from(net.call(x).toArray());
    setBackend('js');
    const b = Array.from(net.call(x).toArray());
    setBackend('native');
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-4));
  });
});

import { Tensor } from '../tensor';
import { plannedForward } from '../nn/planned';
import { add } from '../ops/elementwise';
import { flatten } from '../ops/shape';
import { Module } from '../nn/module';
import { Sequential } from '../nn/container';
import { Conv2d } from '../nn/conv';
import { BatchNorm2d } from '../nn/norm';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/pool';
import { Linear } from '../nn/linear';
import { ReLU } from '../nn/activation';
import { kaimingNormalFanOut } from '../nn/init';
import { options, posInt } from '../nn/args';

/**
 * torchvision's BasicBlock: conv3x3(stride) -> bn1 -> relu -> conv3x3 -> bn2, plus the identity or
 * `downsample` (1x1 conv with the stride + batch norm), then relu. The one `relu` module is called
 * twice, as in torchvision.
 */
export class BasicBlock extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Sequential | null;

  constructor(inPlanes: number, planes: number, stride = 1) {
    super();
    this.conv1 = new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(planes);
    this.relu = new ReLU();
    this.conv2 = new Conv2d(planes, planes, 3, { padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(planes);
    this.downsample = stride !== 1 || inPlanes !== planes
      ? new Sequential(new Conv2d(inPlanes, planes, 1, { stride, bias: false }), new BatchNorm2d(planes))
      : null;
  }

  forward(x: Tensor): Tensor {
    // Planned: relu(bn2(conv2(.)) + identity) is one convolution with the add and ReLU in its epilogue.
    return plannedForward(this, x, () => this.exactForward(x));
  }

  private exactForward(x: Tensor): Tensor {
    let out = this.relu.call(this.bn1.call(this.conv1.call(x)));
    out = this.bn2.call(this.conv2.call(out));
    const identity = this.downsample ? this.downsample.call(x) : x;
    return this.relu.call(add(out, identity));
  }
}

/**
 * torchvision's ResNet with BasicBlocks: conv1 7x7/2 -> bn1 -> relu -> maxpool 3x3/2 -> layer1..4
 * (64, 128, 256, 512 planes; stride 2 from layer2 on) -> avgpool (adaptive 1x1) -> fc. Convolutions
 * use torchvision's kaiming_normal(fan_out) init; batch norms weight 1, bias 0.
 */
export class ResNet extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  maxpool: MaxPool2d;
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  layer4: Sequential;
  avgpool: AdaptiveAvgPool2d;
  fc: Linear;

  constructor(blocks: [number, number, number, number], opts: { numClasses?: number; inChannels?: number } = {}) {
    super();
    const o = options('ResNet', opts);
    const numClasses = posInt('ResNet', 'numClasses', o.numClasses ?? 1000);
    const inChannels = posInt('ResNet', 'inChannels', o.inChannels ?? 3);
    blocks.forEach((b, i) => posInt('ResNet', `blocks[${i}]`, b));
    this.conv1 = new Conv2d(inChannels, 64, 7, { stride: 2, padding: 3, bias: false });
    this.bn1 = new BatchNorm2d(64);
    this.relu = new ReLU();
    this.maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
    let inPlanes = 64;
    const layer = (planes: number, n: number, stride: number): Sequential => {
      const seq = new Sequential(new BasicBlock(inPlanes, planes, stride));
      inPlanes = planes;
      for (let i = 1; i < n; i++) seq.add(new BasicBlock(inPlanes, planes));
      return seq;
    };
    this.layer1 = layer(64, blocks[0], 1);
    this.layer2 = layer(128, blocks[1], 2);
    this.layer3 = layer(256, blocks[2], 2);
    this.layer4 = layer(512, blocks[3], 2);
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.fc = new Linear(512, numClasses);
    for (const m of this.modules()) if (m instanceof Conv2d) kaimingNormalFanOut(m.weight);
  }

  forward(x: Tensor): Tensor {
    return plannedForward(this, x, () => this.exactForward(x));
  }

  private exactForward(x: Tensor): Tensor {
    let y = this.maxpool.call(this.relu.call(this.bn1.call(this.conv1.call(x))));
    y = this.layer4.call(this.layer3.call(this.layer2.call(this.layer1.call(y))));
    return this.fc.call(flatten(this.avgpool.call(y), 1));
  }
}

/**
 * torchvision's resnet18(): 11,689,512 parameters for 1000 classes, the same state-dict keys.
 * @example const net = models.resnet18({ numClasses: 10 }).eval(); const logits = net.call(x);
 */
export function resnet18(opts: { numClasses?: number; inChannels?: number } = {}): ResNet {
  return new ResNet([2, 2, 2, 2], opts);
}

/** torchvision's resnet34() (BasicBlocks [3, 4, 6, 3]): 21,797,672 parameters for 1000 classes. */
export function resnet34(opts: { numClasses?: number; inChannels?: number } = {}): ResNet {
  return new ResNet([3, 4, 6, 3], opts);
}

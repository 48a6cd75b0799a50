import { Tensor } from '../tensor';
import { flatten } from '../ops/shape';
import { Module } from '../nn/module';
import { plannedForward } from '../nn/planned';
import { Sequential } from '../nn/container';
import { Conv2d } from '../nn/conv';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/pool';
import { Linear } from '../nn/linear';
import { ReLU } from '../nn/activation';
import { Dropout } from '../nn/dropout';
import { options, posInt } from '../nn/args';

/**
 * torchvision's AlexNet (single tower, 64/192/384/256/256 channels): features 0..12, avgpool
 * AdaptiveAvgPool2d(6), classifier 0..6 with Dropout(0.5) at 0 and 3. 61,100,840 parameters for
 * 1000 classes; the state-dict keys are torchvision's (features.0.weight ... classifier.6.bias).
 */
export class AlexNet extends Module {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  classifier: Sequential;

  constructor(opts: { numClasses?: number; dropout?: number } = {}) {
    super();
    const o = options('alexnet', opts);
    const numClasses = posInt('alexnet', 'numClasses', o.numClasses ?? 1000);
    const p = (o.dropout as number | undefined) ?? 0.5;
    this.features = new Sequential(
      new Conv2d(3, 64, 11, { stride: 4, padding: 2 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
      new Conv2d(64, 192, 5, { padding: 2 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
      new Conv2d(192, 384, 3, { padding: 1 }), new ReLU(),
      new Conv2d(384, 256, 3, { padding: 1 }), new ReLU(),
      new Conv2d(256, 256, 3, { padding: 1 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
    );
    this.avgpool = new AdaptiveAvgPool2d(6);
    this.classifier = new Sequential(
      new Dropout(p), new Linear(256 * 6 * 6, 4096), new ReLU(),
      new Dropout(p), new Linear(4096, 4096), new ReLU(),
      new Linear(4096, numClasses),
    );
  }

  forward(x: Tensor): Tensor {
    return plannedForward(this, x, () => this.classifier.call(flatten(this.avgpool.call(this.features.call(x)), 1)));
  }
}

/**
 * torchvision's alexnet() (see AlexNet); input [N, 3, 224, 224] (227 works too).
 * @example const net = models.alexnet(); net.loadStateDict(io.loadSafetensors('alexnet.safetensors'));
 */
export function alexnet(opts: { numClasses?: number; dropout?: number } = {}): AlexNet {
  return new AlexNet(opts);
}

import { Tensor } from '../tensor';
import { flatten } from '../ops/shape';
import { outputSize } from '../ops/output-size';
import { Module } from '../nn/module';
import { plannedForward } from '../nn/planned';
import { Sequential } from '../nn/container';
import { Conv2d } from '../nn/conv';
import { AvgPool2d, MaxPool2d } from '../nn/pool';
import { Linear } from '../nn/linear';
import { ReLU, Tanh } from '../nn/activation';
import { posInt, options } from '../nn/args';
import { describe } from '../errors';

export interface LeNet5Options {
  inChannels?: number;
  numClasses?: number;
  activation?: 'relu' | 'tanh';
  pool?: 'max' | 'avg';
  /** 32: the classic net; 28 (default): conv1 padded by 2 so MNIST's 28x28 gives the same shapes. */
  inputSize?: number;
}

/**
 * LeNet-5 in its modern form. `features`: 0 conv 5x5 -> 6, 1 act, 2 pool 2, 3 conv 5x5 -> 16,
 * 4 act, 5 pool 2; the output is flattened in forward; `classifier`: 0 Linear(16*5*5, 120), 1 act,
 * 2 Linear(120, 84), 3 act, 4 Linear(84, numClasses). Returns logits.
 */
export class LeNet5 extends Module {
  features: Sequential;
  classifier: Sequential;

  constructor(opts: LeNet5Options = {}) {
    super();
    const L = 'lenet5';
    const o = options(L, opts);
    const inC = posInt(L, 'inChannels', o.inChannels ?? 1);
    const numClasses = posInt(L, 'numClasses', o.numClasses ?? 10);
    const inputSize = posInt(L, 'inputSize', o.inputSize ?? 28);
    const activation = o.activation ?? 'relu';
    const pool = o.pool ?? 'max';
    if (activation !== 'relu' && activation !== 'tanh') throw new RangeError(`${L}: 'activation' must be 'relu' or 'tanh', got ${describe(activation)}`);
    if (pool !== 'max' && pool !== 'avg') throw new RangeError(`${L}: 'pool' must be 'max' or 'avg', got ${describe(pool)}`);
    const act = () => (activation === 'relu' ? new ReLU() : new Tanh());
    const poolLayer = () => (pool === 'max' ? new MaxPool2d(2) : new AvgPool2d(2));
    const pad = inputSize === 28 ? 2 : 0;
    let s: number;
    try {
      s = outputSize(inputSize, 5, { padding: pad });
      s = outputSize(s, 2, { stride: 2 });
      s = outputSize(s, 5);
      s = outputSize(s, 2, { stride: 2 });
    } catch {
      throw new RangeError(`${L}: 'inputSize' ${inputSize} is too small for LeNet-5 (at least 13)`);
    }
    this.features = new Sequential(
      new Conv2d(inC, 6, 5, { padding: pad }), act(), poolLayer(),
      new Conv2d(6, 16, 5), act(), poolLayer(),
    );
    this.classifier = new Sequential(
      new Linear(16 * s * s, 120), act(),
      new Linear(120, 84), act(),
      new Linear(84, numClasses),
    );
  }

  forward(x: Tensor): Tensor {
    return plannedForward(this, x, () => this.classifier.call(flatten(this.features.call(x), 1)));
  }
}

/**
 * LeNet-5 (see LeNet5).
 * @example const net = models.lenet5(); const logits = net.call(images); // images [N, 1, 28, 28]
 */
export function lenet5(opts: LeNet5Options = {}): LeNet5 {
  return new LeNet5(opts);
}

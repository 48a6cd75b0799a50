import { Tensor } from '../tensor';
import { linear } from '../ops/linear';
import { flatten } from '../ops/shape';
import { Module } from './module';
import { plannedForward } from './planned';
import { uniform } from './init';
import { boolOpt, options, posInt } from './args';
import { describe } from '../errors';

/**
 * Fully connected layer: y = x W^T + b with weight [out, in]; PyTorch's default init
 * U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
 * @example const fc = new nn.Linear(400, 120); const y = fc.call(ops.flatten(x));
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    const L = 'Linear';
    const o = options(L, opts);
    this.inFeatures = posInt(L, 'inFeatures', inFeatures);
    this.outFeatures = posInt(L, 'outFeatures', outFeatures);
    const bound = 1 / Math.sqrt(this.inFeatures);
    this.weight = this.param('weight', uniform([this.outFeatures, this.inFeatures], bound));
    this.bias = boolOpt(L, 'bias', o.bias, true) ? this.param('bias', uniform([this.outFeatures], bound)) : this.noParam('bias');
  }

  forward(x: Tensor): Tensor {
    return plannedForward(this, x, () => linear(x, this.weight, this.bias));
  }

  protected override extraRepr(): string {
    return `${this.inFeatures}, ${this.outFeatures}${this.bias ? '' : ', bias=false'}`;
  }
}

/** Flattens dims startDim.. into one (default 1: [N, C, H, W] -> [N, C*H*W]). */
export class Flatten extends Module {
  readonly startDim: number;

  constructor(startDim = 1) {
    super();
    if (typeof startDim !== 'number' || !Number.isInteger(startDim)) {
      throw new TypeError(`Flatten: 'startDim' must be an integer, got ${describe(startDim)}`);
    }
    this.startDim = startDim;
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim);
  }

  protected override extraRepr(): string {
    return `startDim=${this.startDim}`;
  }
}

/** Returns its input unchanged. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

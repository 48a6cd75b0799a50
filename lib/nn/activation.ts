import { Tensor } from '../tensor';
import { leakyRelu, logSoftmax, relu, sigmoid, softmax, tanh } from '../ops/activation';
import { Module } from './module';
import { numOpt } from './args';
import { describe } from '../errors';

/** max(x, 0) */
export class ReLU extends Module {
  forward(x: Tensor): Tensor { return relu(x); }
}

/** x for x > 0, negativeSlope * x otherwise (default 0.01). */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = numOpt('LeakyReLU', 'negativeSlope', negativeSlope, 0.01);
  }
  forward(x: Tensor): Tensor { return leakyRelu(x, this.negativeSlope); }
  protected override extraRepr(): string { return `negativeSlope=${this.negativeSlope}`; }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return sigmoid(x); }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor { return tanh(x); }
}

function dimArg(layer: string, dim: unknown): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim)) throw new TypeError(`${layer}: 'dim' must be an integer, got ${describe(dim)}`);
  return dim;
}

/** Softmax along dim (default 1, the class axis of [N, K]). */
export class Softmax extends Module {
  readonly dim: number;
  constructor(dim = 1) { super(); this.dim = dimArg('Softmax', dim); }
  forward(x: Tensor): Tensor { return softmax(x, this.dim); }
  protected override extraRepr(): string { return `dim=${this.dim}`; }
}

/** log(softmax(x)) along dim (default 1). */
export class LogSoftmax extends Module {
  readonly dim: number;
  constructor(dim = 1) { super(); this.dim = dimArg('LogSoftmax', dim); }
  forward(x: Tensor): Tensor { return logSoftmax(x, this.dim); }
  protected override extraRepr(): string { return `dim=${this.dim}`; }
}

import { Tensor } from '../tensor';
import { dropout } from '../ops/dropout';
import { Module } from './module';
import { numOpt } from './args';

/**
 * Inverted dropout with probability p (default 0.5): active only in training mode; in eval mode
 * the output equals the input.
 */
export class Dropout extends Module {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    this.p = numOpt('Dropout', 'p', p, 0.5, 0, 1);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
  protected override extraRepr(): string { return `p=${this.p}`; }
}

import type { Tensor } from '../tensor';
import { describe } from '../errors';
import { Optimizer, positive } from './optimizer';

export interface SGDOptions { lr: number; momentum?: number; weightDecay?: number; nesterov?: boolean; dampening?: number }

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
 * exactly as torch.optim.SGD.
 * @example const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
 */
export class SGD extends Optimizer {
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly dampening: number;

  constructor(params: Iterable<Tensor>, o: SGDOptions) {
    super('SGD', params);
    if (o === null || typeof o !== 'object') throw new TypeError(`SGD: options must be an object with lr, got ${describe(o)}`);
    this.lr = positive('SGD', 'lr', o.lr, true);
    this.momentum = positive('SGD', 'momentum', o.momentum ?? 0, true);
    this.weightDecay = positive('SGD', 'weightDecay', o.weightDecay ?? 0, true);
    this.dampening = positive('SGD', 'dampening', o.dampening ?? 0, true);
    this.nesterov = o.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('SGD: nesterov needs momentum > 0 and dampening 0');
    }
  }

  step(): void {
    const { lr, momentum: mu, weightDecay: wd, nesterov, dampening } = this;
    for (const p of this.params) {
      if (!p.grad) continue;
      const w = p.data, g = p.grad.data;
      const first = mu !== 0 && !this.state.get(p)?.momentum_buffer;
      const buf = mu !== 0 ? this.buffer(p, 'momentum_buffer').data : null;
      for (let i = 0; i < w.length; i++) {
        let d = g[i] + wd * w[i];
        if (buf) {
          buf[i] = first ? d : mu * buf[i] + (1 - dampening) * d;
          d = nesterov ? d + mu * buf[i] : buf[i];
        }
        w[i] -= lr * d;
      }
      p.version++;
    }
    this.stepCount++;
  }
}

import type { Tensor } from '../tensor';
import { describe } from '../errors';
import { Optimizer, positive } from './optimizer';

export interface AdamOptions { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number }

/**
 * Adam (Kingma & Ba) with bias correction and optional L2 weight decay, as torch.optim.Adam.
 * @example const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends Optimizer {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(params: Iterable<Tensor>, o: AdamOptions = {}) {
    super('Adam', params);
    if (o === null || typeof o !== 'object') throw new TypeError(`Adam: options must be an object, got ${describe(o)}`);
    this.lr = positive('Adam', 'lr', o.lr ?? 1e-3, true);
    const betas = o.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new TypeError('Adam: betas must be [beta1, beta2]');
    [this.beta1, this.beta2] = betas.map((b, i) => {
      const v = positive('Adam', `betas[${i}]`, b, true);
      if (v >= 1) throw new RangeError(`Adam: betas[${i}] must be in [0, 1), got ${v}`);
      return v;
    });
    this.eps = positive('Adam', 'eps', o.eps ?? 1e-8, true);
    this.weightDecay = positive('Adam', 'weightDecay', o.weightDecay ?? 0, true);
  }

  step(): void {
    const t = ++this.stepCount;
    const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd } = this;
    const c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
    for (const p of this.params) {
      if (!p.grad) continue;
      const w = p.data, g = p.grad.data;
      const m = this.buffer(p, 'exp_avg').data, v = this.buffer(p, 'exp_avg_sq').data;
      for (let i = 0; i < w.length; i++) {
        const d = g[i] + wd * w[i];
        m[i] = b1 * m[i] + (1 - b1) * d;
        v[i] = b2 * v[i] + (1 - b2) * d * d;
        w[i] -= lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps);
      }
      p.version++;
    }
  }
}

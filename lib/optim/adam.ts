import type { Tensor } from '../tensor';
import { describe } from '../errors';
import { backend } from '../backend/index';
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

  /** [lr, beta1, beta2, eps, weightDecay, c1, c2] for the backend's adamStep. */
  private readonly hyper = new Float32Array(7);

  step(): void {
    const [g, hyper] = this.prepareStep();
    if (g.params.length > 0) backend().adamStep(g.params, g.grads, g.m, g.v, hyper);
  }

  /**
   * Everything of a step but the kernel call: the step count and bias corrections written for the
   * kernel to read (a compiled training step calls this before each replay), the moments created,
   * the parameters' versions bumped.
   */
  prepareStep(): [{ params: Float32Array[]; grads: Float32Array[]; m: Float32Array[]; v: Float32Array[] }, Float32Array] {
    const t = ++this.stepCount;
    const g = { params: [] as Float32Array[], grads: [] as Float32Array[], m: [] as Float32Array[], v: [] as Float32Array[] };
    for (const p of this.params) {
      if (!p.grad) continue;
      g.params.push(p.data);
      g.grads.push(p.grad.data);
      g.m.push(this.buffer(p, 'exp_avg').data);
      g.v.push(this.buffer(p, 'exp_avg_sq').data);
      p.version++;
    }
    const { beta1: b1, beta2: b2 } = this;
    this.hyper.set([this.lr, b1, b2, this.eps, this.weightDecay, 1 - Math.pow(b1, t), 1 - Math.pow(b2, t)]);
    return [g, this.hyper];
  }
}

import type { Tensor } from '../tensor';
import { describe } from '../errors';
import { backend } from '../backend/index';
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

  /** [lr, momentum, dampening, weightDecay, nesterov, firstStep] for the backend's sgdStep. */
  private readonly hyper = new Float32Array(6);
  /** The same for parameters whose momentum buffer starts this step (buf = d, as PyTorch). */
  private readonly hyperFirst = new Float32Array(6);

  step(): void {
    const be = backend();
    for (const [group, hyper] of this.prepareStep()) {
      be.sgdStep(group.params, group.grads, group.buffers, hyper);
    }
  }

  /**
   * Everything of a step but the kernel calls: the hyper-parameters written for the kernels to read
   * (a compiled training step calls this before each replay), the state created, the parameters'
   * versions bumped. At most two groups: parameters with a momentum buffer, and those whose buffer
   * starts now.
   */
  prepareStep(): [{ params: Float32Array[]; grads: Float32Array[]; buffers: (Float32Array | null)[] }, Float32Array][] {
    const mu = this.momentum;
    const going = { params: [] as Float32Array[], grads: [] as Float32Array[], buffers: [] as (Float32Array | null)[] };
    const starting = { params: [] as Float32Array[], grads: [] as Float32Array[], buffers: [] as (Float32Array | null)[] };
    for (const p of this.params) {
      if (!p.grad) continue;
      const first = mu !== 0 && !this.state.get(p)?.momentum_buffer;
      const group = first ? starting : going;
      group.params.push(p.data);
      group.grads.push(p.grad.data);
      group.buffers.push(mu !== 0 ? this.buffer(p, 'momentum_buffer').data : null);
      p.version++;
    }
    this.stepCount++;
    const out: [typeof going, Float32Array][] = [];
    for (const [group, hyper, first] of [[going, this.hyper, 0], [starting, this.hyperFirst, 1]] as const) {
      if (group.params.length === 0) continue;
      hyper.set([this.lr, mu, this.dampening, this.weightDecay, this.nesterov ? 1 : 0, first]);
      out.push([group, hyper]);
    }
    return out;
  }
}

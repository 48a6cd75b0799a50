import { Tensor, persist } from '../tensor';
import { describe, shapeStr } from '../errors';

/** Shared parameter bookkeeping: validation, zeroGrad, per-parameter state tensors. */
export abstract class Optimizer {
  readonly params: Tensor[];
  /** Per-parameter named state (momentum buffers, Adam moments), created lazily. */
  protected state: Map<Tensor, Record<string, Tensor>> = new Map();
  protected stepCount = 0;

  constructor(op: string, params: Iterable<Tensor>) {
    if (params === null || typeof params !== 'object' || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`${op}: params must be an array of Tensors, got ${describe(params)}`);
    }
    this.params = [...new Set(params)];
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new TypeError(`${op}: params[${i}] must be a Tensor, got ${describe(p)}`);
    });
    if (this.params.length === 0) throw new RangeError(`${op}: params is empty`);
  }

  /** Sets every parameter's gradient to zero (drops it). */
  zeroGrad(): void {
    for (const p of this.params) {
      if (p.grad) {
        p.grad.dispose();
        p.grad = null;
      }
    }
  }

  abstract step(): void;

  /**
   * Internal (lib/train/step.ts): a step without its kernel calls (hyper-parameters written into the
   * arrays the kernels read, state created, versions bumped), before a recorded step is replayed.
   */
  abstract prepareStep(): unknown;

  protected buffer(p: Tensor, name: string): Tensor {
    let s = this.state.get(p);
    if (!s) { s = {}; this.state.set(p, s); }
    if (!s[name]) s[name] = persist(Tensor.wrap(new Float32Array(p.size), p.shape));
    return s[name];
  }

  /** State as tensors keyed `<paramIndex>.<name>` plus `step`, for resuming training. */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = { step: Tensor.from([this.stepCount], [1]) };
    this.params.forEach((p, i) => {
      const s = this.state.get(p);
      if (s) for (const [k, v] of Object.entries(s)) out[`${i}.${k}`] = Tensor.from(v.data, v.shape);
    });
    return out;
  }

  loadStateDict(dict: Record<string, Tensor>): void {
    if (dict === null || typeof dict !== 'object') throw new TypeError(`loadStateDict: expected a record of Tensors, got ${describe(dict)}`);
    const step = dict.step;
    if (!(step instanceof Tensor) || step.size !== 1) throw new RangeError("loadStateDict: missing 'step'");
    const pending: [Tensor, string, Tensor][] = [];
    for (const [key, v] of Object.entries(dict)) {
      if (key === 'step') continue;
      const m = /^(\d+)\.(\w+)$/.exec(key);
      const p = m ? this.params[Number(m[1])] : undefined;
      if (!m || !p) throw new RangeError(`loadStateDict: unexpected key '${key}'`);
      if (!(v instanceof Tensor) || v.size !== p.size) {
        throw new RangeError(`loadStateDict: '${key}' must have shape ${shapeStr(p.shape)}, got ${v instanceof Tensor ? shapeStr(v.shape) : describe(v)}`);
      }
      pending.push([p, m[2], v]);
    }
    for (const [p, name, v] of pending) this.buffer(p, name).data.set(v.data);
    this.stepCount = step.item();
  }
}

export function positive(op: string, name: string, v: unknown, allowZero = false): number {
  if (typeof v !== 'number') throw new TypeError(`${op}: '${name}' must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new RangeError(`${op}: '${name}' must be ${allowZero ? 'non-negative' : 'positive'} and finite, got ${v}`);
  }
  return v;
}

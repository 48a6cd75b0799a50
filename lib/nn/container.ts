import { Tensor } from '../tensor';
import { add } from '../ops/elementwise';
import { Module } from './module';
import { lowerable, planning, plannedForward, plannedRun } from './planned';
import { describe } from '../errors';
import { heldByHook } from './hooks';

/**
 * Runs its children in order. Children are named 0, 1, ... (`Sequential(a, b)`) or by the keys
 * of an object (`Sequential({ conv: a, act: b })`, PyTorch's OrderedDict form); state-dict keys are
 * `0.weight` or `conv.weight`.
 * @example const net = new nn.Sequential(new nn.Conv2d(1, 6, 5), new nn.ReLU(), new nn.MaxPool2d(2));
 */
export class Sequential extends Module {
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    if (modules.length === 1 && !(modules[0] instanceof Module)) {
      const named = modules[0];
      if (named === null || typeof named !== 'object' || Array.isArray(named)) {
        throw new TypeError(`Sequential: expects Modules or one object of named Modules, got ${describe(named)}`);
      }
      for (const [name, m] of Object.entries(named)) this.add(m, name);
    } else {
      for (const m of modules as Module[]) this.add(m);
    }
  }

  /** Appends a child, named by its index unless `name` is given. Returns this. */
  add(m: Module, name?: string): this {
    const key = name ?? String(this._modules.size);
    if (typeof key !== 'string' || key === '' || key.includes('.')) {
      throw new RangeError(`Sequential: child name must be a non-empty string without '.', got ${describe(key)}`);
    }
    if (this._modules.has(key)) throw new RangeError(`Sequential: a child named '${key}' already exists`);
    if (!(m instanceof Module)) throw new TypeError(`Sequential: child '${key}' must be a Module, got ${describe(m)}`);
    this.registerModule(key, m);
    return this;
  }

  /** The i-th child (negative counts from the end). */
  at(i: number): Module {
    const list = [...this._modules.values()];
    const k = i < 0 ? list.length + i : i;
    if (!Number.isInteger(k) || k < 0 || k >= list.length) throw new RangeError(`Sequential: index ${i} is out of range for ${list.length} children`);
    return list[k];
  }

  /** The child named `name`. */
  get(name: string): Module {
    const m = this._modules.get(name);
    if (!m) throw new RangeError(`Sequential: no child named '${name}' (children: ${[...this._modules.keys()].join(', ')})`);
    return m;
  }

  get length(): number {
    return this._modules.size;
  }

  forward(x: Tensor): Tensor {
    return plannedForward(this, x, () => this.forwardChildren(x));
  }

  /**
   * The children one after another. In planned inference (a child has no lowering, so the whole
   * cannot be one graph) each run of consecutive children that can be lowered is one graph.
   */
  private forwardChildren(x: Tensor): Tensor {
    const mods = [...this._modules.values()];
    const plan = planning(this);
    let y = x;
    // Planned inference frees each intermediate as soon as the next layer has consumed it, so the
    // buffer pool hands the same (cache-warm) arrays to the following layers instead of a forward's
    // worth of distinct ones (nothing else holds them: no tape is recorded; a hook's are kept).
    const step = (next: Tensor): void => {
      if (plan && y !== x && next !== y && y instanceof Tensor && !y.disposed && !y.persistent && !heldByHook(y)) y.dispose();
      y = next;
    };
    for (let i = 0; i < mods.length;) {
      let j = i;
      if (plan) while (j < mods.length && lowerable(mods[j])) j++;
      const r = j > i ? plannedRun(this, mods, i, j, y) : null;
      if (r) {
        step(r);
        i = j;
      } else {
        for (const end = Math.max(j, i + 1); i < end; i++) step(mods[i].call(y));
      }
    }
    return y;
  }
}

/**
 * A residual block: output = body(x) + shortcut(x), with the identity when there is no shortcut
 * (then body must keep x's shape). A projection shortcut (1x1 conv, often with batch norm) matches
 * channels or stride.
 * @example new nn.Residual(new nn.Sequential(conv3x3, bn, relu, conv3x3b, bn2))
 */
export class Residual extends Module {
  body: Module;
  shortcut: Module | null;

  constructor(body: Module, shortcut?: Module | null) {
    super();
    if (!(body instanceof Module)) throw new TypeError(`Residual: body must be a Module, got ${describe(body)}`);
    if (shortcut !== undefined && shortcut !== null && !(shortcut instanceof Module)) {
      throw new TypeError(`Residual: shortcut must be a Module, got ${describe(shortcut)}`);
    }
    this.body = body;
    this.shortcut = shortcut ?? null;
  }

  forward(x: Tensor): Tensor {
    return plannedForward(this, x, () => add(this.body.call(x), this.shortcut ? this.shortcut.call(x) : x));
  }
}

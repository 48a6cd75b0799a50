/**
 * Planned inference for nn modules: an eval-mode forward under noGrad runs the module lowered to the
 * graph compiler (lib/nn/lower.ts), the same passes and plans as an ONNX model and as
 * Module.compile: batch norm folded into the convolutions, activations and residual adds in the
 * kernels' epilogues, weights prepared once (Winograd-transformed or panel-packed), one arena
 * reused by liveness, and a plan per input shape replayed by one addon call.
 *
 * The lowering is kept per module together with what it was made from: the module tree (by
 * identity), every parameter and buffer with its version, each module's switches (train/eval,
 * setFastInference) and the backend. A forward that finds any of them changed lowers again, so an
 * optimiser step, loadStateDict or a replaced layer is never answered from stale weights. Plans are
 * kept for the last few input shapes (prepared weights are shared between them); the arenas,
 * folded weights and prepared copies are persistent tensors, so memory() counts them, and
 * Module.dispose frees them.
 *
 * A module the front end cannot lower runs its own forward; a Sequential then plans each run of
 * consecutive children that can be lowered, so a custom layer in the middle of a network costs the
 * fusion only at its own boundaries.
 */
import { Tensor, captureState, persist } from '../tensor';
import { isGradEnabled } from '../autograd/tape';
import { backend } from '../backend/index';
import type { Graph } from '../graph/ir';
import { optimize } from '../graph/passes';
import { ExecPlan, PreparedCache } from '../graph/plan';
import type { Module } from './module';
import { hasForwardHooks, hookState, treeHooked } from './hooks';

/**
 * The nn front end, registered by lib/nn/lower.ts when it loads (it imports every layer class,
 * which import this file: this file cannot import it).
 */
let lowerOne: ((m: Module) => Graph | null) | null = null;
let lowerRun: ((root: Module, chain: readonly Module[]) => Graph | null) | null = null;
export function registerModuleLowering(one: (m: Module) => Graph | null,
  run: (root: Module, chain: readonly Module[]) => Graph | null): void {
  lowerOne = one;
  lowerRun = run;
}

/** The lowering of m (a whole tree), for Module.compile. */
export function lowerModule(m: Module): Graph | null {
  return lowerOne ? lowerOne(m) : null;
}

/** Plans kept per lowering: one per input shape, the least recently used dropped beyond this. */
const MAX_SHAPES = 4;

/**
 * A lowered, optimised graph and its plans. The passes' own constants (batch norm folded into a
 * convolution's weights, folded subgraphs) that no plan reads when it runs, only to make its
 * prepared copy, are dropped once the plans are made: a ResNet-18 would otherwise hold its
 * convolution weights three times (the module's, folded, prepared), 45 MB more than needed. A
 * plan for a new shape lowers again (folding is one pass over the weights); the constants the
 * plans do read are kept and reused by name.
 */
class Lowered {
  readonly plans = new Map<string, ExecPlan>();
  readonly cache = new PreparedCache();
  /** Settles after the last forwardAsync of a plan: the next one starts after it. */
  tail: Promise<unknown> = Promise.resolve();
  inFlight = 0;
  /** null once trimmed: the next plan lowers again. */
  private graph: Graph | null = null;
  /** The passes' constants by name, as the plans hold them. */
  private readonly owned = new Map<string, Tensor>();

  constructor(private readonly lower: () => Graph) {
    this.graph = this.lowered();
  }

  /** The plan for this input shape (made on first use); null when the shape does not fit the graph. */
  plan(shape: readonly number[]): ExecPlan | null {
    const key = shape.join('x');
    const hit = this.plans.get(key);
    if (hit) {
      // Most recently used last.
      this.plans.delete(key);
      this.plans.set(key, hit);
      return hit;
    }
    const p = this.make(shape, false);
    if (!p) return null;
    for (const [k, old] of this.plans) {
      if (this.plans.size < MAX_SHAPES || this.inFlight > 0) break;
      if (old.busy) continue;
      old.dispose();
      this.plans.delete(k);
    }
    this.plans.set(key, p);
    this.trim();
    return p;
  }

  /**
   * A plan for one recording (inside an open capture); null when the shape does not fit. The
   * caller disposes it once recorded: the recording owns its arena.
   */
  transientPlan(shape: readonly number[]): ExecPlan | null {
    return this.make(shape, true);
  }

  private make(shape: readonly number[], transient: boolean): ExecPlan | null {
    this.graph ??= this.lowered();
    try {
      return new ExecPlan(this.graph, new Map([['input', shape]]), { fast: true, winograd: true, transient }, this.cache);
    } catch (e) {
      // A shape the module cannot take: its own forward reports it, in the module's words.
      if (e instanceof RangeError || e instanceof TypeError) return null;
      throw e;
    }
  }

  /** The graph lowered and optimised; a constant the plans already hold under its name is reused. */
  private lowered(): Graph {
    const g = this.lower();
    const made = new Set<Tensor>();
    optimize(g, { own: (data, s) => { const t = persist(Tensor.wrap(data, s)); made.add(t); return t; } });
    for (const [name, t] of g.constants) {
      if (!made.has(t)) continue;
      made.delete(t);
      const kept = this.owned.get(name);
      if (kept && kept.size === t.size) {
        g.constants.set(name, kept);
        t.dispose();
      } else {
        kept?.dispose();
        this.owned.set(name, t);
      }
    }
    for (const t of made) t.dispose();  // folded, then removed as dead by a later pass
    return g;
  }

  /** Drops the passes' constants no plan reads when it runs. */
  private trim(): void {
    const read = new Set<string>();
    for (const p of this.plans.values()) for (const c of p.runConstants) read.add(c);
    for (const [name, t] of this.owned) {
      if (read.has(name)) continue;
      t.dispose();
      this.owned.delete(name);
      this.graph = null;
    }
  }

  release(): void {
    for (const p of this.plans.values()) p.dispose();
    this.plans.clear();
    this.cache.dispose();
    for (const t of this.owned.values()) t.dispose();
    this.owned.clear();
    this.graph = null;
  }
}

/** A module's (or a run of a Sequential's children's) lowering and what it was made from. */
class PlannedForward {
  private modules: Module[] = [];
  private sources: Tensor[] = [];
  private versions: number[] = [];
  private switches: boolean[] = [];
  private backendName = '';
  /** null: a module in the tree has no lowering (its own forward runs). */
  private lowered: Lowered | null = null;
  private made = false;
  /** hookState.epoch when made: a hook registered or removed since asks again. */
  private hookEpoch = -1;

  constructor(private readonly root: Module, private readonly chain: readonly Module[] | null) {}

  /**
   * The current lowering; null when the tree cannot be lowered or is not all eval + fast; 'busy'
   * when it must be made again but a forwardAsync still runs on the old one.
   */
  current(): Lowered | null | 'busy' {
    if (this.made && this.hookEpoch === hookState.epoch && this.fresh()) return this.lowered;
    if (this.lowered && this.lowered.inFlight > 0) return 'busy';
    this.release();
    this.made = true;
    this.hookEpoch = hookState.epoch;
    const modules: Module[] = [], sources: Tensor[] = [];
    this.visit((m) => { modules.push(m); return true; }, (t) => { sources.push(t); return true; });
    this.modules = modules;
    this.sources = sources;
    this.versions = sources.map((t) => t.version);
    this.switches = modules.flatMap(switchesOf);
    this.backendName = backend().name;
    // A hooked module runs its own forward, so that its hooks see its real output.
    if (modules.some((m) => m.training || !m.fastInference || hasForwardHooks(m))) return null;
    const lower = (): Graph | null => (this.chain ? lowerRun?.(this.root, this.chain) ?? null : lowerOne?.(this.root) ?? null);
    // Lowering again later (after a trim) sees the same tree: fresh() is checked before every use.
    this.lowered = lower() ? new Lowered(() => lower()!) : null;
    return this.lowered;
  }

  release(): void {
    this.lowered?.release();
    this.lowered = null;
    this.made = false;
  }

  private visit(onModule: (m: Module) => boolean, onTensor: (t: Tensor) => boolean): boolean {
    if (!this.chain) return this.root.visitState(onModule, onTensor);
    const seen = new Set<Module>();
    return this.chain.every((c) => c.visitState(onModule, onTensor, seen));
  }

  /**
   * The same modules with the same switches, the same tensors at the same versions, the same
   * backend: compared while walking the tree (this runs on every planned forward).
   */
  private fresh(): boolean {
    if (this.backendName !== backend().name) return false;
    const ms = this.modules, w = this.switches, ts = this.sources, vs = this.versions;
    let i = 0, k = 0;
    const sameModule = (m: Module): boolean => {
      if (ms[i] !== m || m.training !== w[4 * i] || m.fastInference !== w[4 * i + 1] || m.packWeights !== w[4 * i + 2] ||
        m.winograd !== w[4 * i + 3]) return false;
      i++;
      return true;
    };
    // A reassigned parameter is a new tensor; a written one has a new version.
    const sameTensor = (t: Tensor): boolean => {
      if (ts[k] !== t || t.version !== vs[k] || t.disposed) return false;
      k++;
      return true;
    };
    return this.visit(sameModule, sameTensor) && i === ms.length && k === ts.length;
  }
}

/** What a lowering depends on besides the structure and the tensors: each module's switches. */
export function switchesOf(m: Module): boolean[] {
  return [m.training, m.fastInference, m.packWeights, m.winograd];
}

const planned = new WeakMap<Module, PlannedForward>();
const runs = new WeakMap<Module, Map<number, PlannedForward>>();

/** Set while a fallback forward runs: the modules under it take their own paths, unplanned. */
let suspended = 0;

/** True when an eval-mode forward of m may be planned now. */
export function planning(m: Module): boolean {
  return suspended === 0 && !m.training && m.fastInference && !isGradEnabled();
}

function canPlan(m: Module, x: unknown): x is Tensor {
  return planning(m) && x instanceof Tensor && !x.disposed;
}

/**
 * Runs a lowering on x: the cached plan for x's shape, or inside an open capture a transient plan
 * recorded into it. null when the plan cannot take x (its own forward then runs and reports why).
 */
function runLowered(l: Lowered, x: Tensor): Tensor | null {
  const feeds = new Map([['input', x]]);
  if (captureState.active) {
    const p = l.transientPlan(x.shape);
    if (!p) return null;
    try {
      return first(p.run(feeds));
    } finally {
      p.dispose();
    }
  }
  const p = l.plan(x.shape);
  if (!p || p.busy) return null;
  return first(p.run(feeds));
}

function first(r: Record<string, Tensor>): Tensor {
  return Object.values(r)[0];
}

/**
 * m's eval-mode forward under noGrad, planned: the module lowered to the graph compiler. Where it
 * cannot be (training mode, gradients recorded, fast inference off, a module without a lowering,
 * a shape the plan does not take, a plan busy with a forwardAsync), `own` runs instead, with
 * planning suspended below it.
 */
export function plannedForward(m: Module, x: Tensor, own: () => Tensor): Tensor {
  if (canPlan(m, x)) {
    let pf = planned.get(m);
    if (!pf) planned.set(m, (pf = new PlannedForward(m, null)));
    const l = pf.current();
    if (l === 'busy') return unplanned(own);
    const y = l ? runLowered(l, x) : null;
    if (y) return y;
    if (l) return unplanned(own);
  }
  return own();
}

/**
 * children[from..to) of a Sequential applied to x as one planned graph; null when the run cannot
 * be planned now (the children then run one by one).
 */
export function plannedRun(seq: Module, children: readonly Module[], from: number, to: number, x: Tensor): Tensor | null {
  if (!canPlan(seq, x)) return null;
  let byStart = runs.get(seq);
  if (!byStart) runs.set(seq, (byStart = new Map()));
  let pf = byStart.get(from * 65536 + to);
  if (!pf) byStart.set(from * 65536 + to, (pf = new PlannedForward(seq, children.slice(from, to))));
  const l = pf.current();
  return l && l !== 'busy' ? runLowered(l, x) : null;
}

const lowerableCache = new WeakMap<Module, boolean>();

/**
 * True when m (its whole tree) has a lowering and no forward hooks: a Sequential's runs are made of
 * these. Cached (hooks apart): a stale answer only costs fusion (a run whose lowering fails runs
 * its children one by one).
 */
export function lowerable(m: Module): boolean {
  if (treeHooked(m)) return false;
  let v = lowerableCache.get(m);
  if (v === undefined) {
    v = !!lowerOne && lowerOne(m) !== null;
    lowerableCache.set(m, v);
  }
  return v;
}

/**
 * m's forward on a worker thread through its plan; null when it cannot be planned (forwardAsync
 * then records its own forward). Runs of one plan go one at a time, in order.
 */
export function plannedForwardAsync(m: Module, x: Tensor): Promise<Tensor> | null {
  if (suspended !== 0 || m.training || !m.fastInference || captureState.active || backend().name !== 'native') return null;
  let pf = planned.get(m);
  if (!pf) planned.set(m, (pf = new PlannedForward(m, null)));
  const l = pf.current();
  if (!l || l === 'busy') return null;
  const p = l.plan(x.shape);
  if (!p || !p.captured) return null;
  // The input is copied into the plan when the run starts; until then it is read from a copy.
  const data = x.data.slice();
  const input = { data, shape: x.shape } as unknown as Tensor;
  l.inFlight++;
  const run = l.tail.then(async () => {
    if (p.disposed) throw new Error('forwardAsync: the module was disposed while the forward was queued');
    p.busy = true;
    try {
      return first(await p.runAsync(new Map([['input', input]])));
    } finally {
      p.busy = false;
    }
  });
  const done = run.finally(() => { l.inFlight--; });
  l.tail = done.then(() => undefined, () => undefined);
  return done;
}

/** Runs f with planning suspended (the fallback of a module whose plan cannot serve this call). */
export function unplanned<T>(f: () => T): T {
  suspended++;
  try {
    return f();
  } finally {
    suspended--;
  }
}

/** Frees m's lowerings and plans (Module.dispose, releaseCaches). */
export function releasePlanned(m: Module): void {
  planned.get(m)?.release();
  planned.delete(m);
  const r = runs.get(m);
  if (r) for (const pf of r.values()) pf.release();
  runs.delete(m);
}

/**
 * Forward hooks (Module.registerForwardHook): functions called with (module, input, output) after
 * a module's forward, in registration order, as PyTorch's register_forward_hook. A hook that
 * returns a Tensor replaces the output.
 *
 * A module with hooks runs its own forward, never a lowering: the planned forward (lib/nn/planned.ts)
 * does not lower a tree that holds a hooked module, a Sequential plans only the runs of children
 * without hooks around it, and Module.compile refuses a hooked tree. So a hook sees the tensor the
 * next layer reads, not a value fused away into a kernel's epilogue. State lives here, keyed by
 * module, so that a module without hooks carries nothing and the planner can test "any hooks at
 * all?" with one comparison.
 */
import { Tensor, captureState, CaptureUnsupportedError } from '../tensor';
import type { Module } from './module';
import { describe } from '../errors';

export type ForwardHook<M extends Module = Module> = (module: M, input: Tensor, output: Tensor) => Tensor | void;

/** What registerForwardHook returns: remove() unregisters the hook (idempotent). */
export interface RemovableHandle {
  remove(): void;
}

interface Installed {
  hooks: Map<number, ForwardHook>;
  /** The forward the wrapper calls, and whether it was the instance's own property. */
  inner: (x: Tensor) => Tensor;
  own: boolean;
  wrapper: (x: Tensor) => Tensor;
}

const installed = new WeakMap<Module, Installed>();

/** live: hooks registered now (0: nothing to check); epoch: bumped on every register/remove. */
export const hookState = { live: 0, epoch: 0 };

let nextId = 0;

/** Tensors a hook has seen: a planned Sequential must not free them as spent intermediates. */
const seenByHooks = new WeakSet<Tensor>();

export function heldByHook(t: Tensor): boolean {
  return hookState.live > 0 && seenByHooks.has(t);
}

export function hasForwardHooks(m: Module): boolean {
  return hookState.live > 0 && (installed.get(m)?.hooks.size ?? 0) > 0;
}

/** The first module (with its path) in m's tree that has hooks, or null. */
export function firstHooked(m: Module): [string, Module] | null {
  if (hookState.live === 0) return null;
  for (const [path, sub] of m.namedModules()) if (hasForwardHooks(sub)) return [path, sub];
  return null;
}

/** True when m or a descendant has hooks (no names built: the planner calls this). */
export function treeHooked(m: Module): boolean {
  if (hookState.live === 0) return false;
  let found = false;
  m.visitState((sub) => !(found = hasForwardHooks(sub)), () => true);
  return found;
}

/**
 * Adds hook to m. The instance's forward is wrapped (an own property shadowing the class's) while
 * m has hooks, so forward() and call() both run them, and the callers inside models (which call
 * their children's call()) do too.
 */
export function addForwardHook(m: Module, hook: ForwardHook): RemovableHandle {
  let inst = installed.get(m);
  if (!inst) {
    const own = Object.prototype.hasOwnProperty.call(m, 'forward');
    const inner = m.forward;
    const hooks = new Map<number, ForwardHook>();
    const wrapper = function hookedForward(this: Module, x: Tensor): Tensor {
      // Hooks read values on the JS thread: a forwardAsync capture falls back to a synchronous run.
      if (hooks.size > 0 && captureState.active) {
        throw new CaptureUnsupportedError(`${m.constructor.name} has forward hooks, which read the output on the JS thread`);
      }
      const y = inner.call(this, x);
      return hooks.size > 0 ? runHooks(m, hooks, x, y) : y;
    };
    inst = { hooks, inner, own, wrapper };
    installed.set(m, inst);
    (m as { forward: (x: Tensor) => Tensor }).forward = wrapper;
  }
  const id = nextId++;
  inst.hooks.set(id, hook);
  hookState.live++;
  hookState.epoch++;
  const entry = inst;
  return {
    remove(): void {
      if (!entry.hooks.delete(id)) return;
      hookState.live--;
      hookState.epoch++;
      if (entry.hooks.size > 0 || installed.get(m) !== entry) return;
      // Unwrap only when nothing wrapped the forward since (summary's tracing restores its own).
      if (m.forward !== entry.wrapper) return;
      installed.delete(m);
      if (entry.own) (m as { forward: (x: Tensor) => Tensor }).forward = entry.inner;
      else delete (m as { forward?: unknown }).forward;
    },
  };
}

function runHooks(m: Module, hooks: Map<number, ForwardHook>, x: Tensor, y: Tensor): Tensor {
  let out = y;
  // A hook that removes itself (or adds another) does not change this call's list.
  for (const hook of [...hooks.values()]) {
    if (x instanceof Tensor) seenByHooks.add(x);
    if (out instanceof Tensor) seenByHooks.add(out);
    const r = hook(m, x, out);
    if (r === undefined) continue;
    if (!(r instanceof Tensor)) {
      throw new TypeError(`forward hook of ${m.constructor.name}: must return undefined or a Tensor, got ${describe(r)}`);
    }
    out = r;
  }
  if (out instanceof Tensor) seenByHooks.add(out);
  return out;
}

/**
 * Reverse-mode autograd. A differentiable op that sees an input with requiresGrad records a node
 * on its output: the inputs and a closure mapping the output gradient to input gradients (flat
 * Float32Arrays; the closure captures the arrays it needs, so disposing a forward tensor does not
 * break backward). backward() walks the graph in reverse topological order, accumulates into
 * leaf tensors' `.grad`, and then drops the nodes so the tape's memory is released.
 */
import {
  Tensor, persist, setBackwardImpl, setViewHook, sameShape, hold, release, isGradArray, recycleGrad, adoptGrad, allocGrad,
  captureState, CaptureUnsupportedError, type GradNode,
} from '../tensor';
import { backend } from '../backend/index';
import { shapeStr } from '../errors';

let enabled = true;

/**
 * Runs fn without recording a tape: the inference path.
 * @example const logits = noGrad(() => model.forward(x));
 */
export function noGrad<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError('noGrad: fn must be a function');
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return enabled;
}

/** True when an op with these inputs must record. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!enabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

export type BackwardFn = (dy: Float32Array) => (Float32Array | null)[];

class Node implements GradNode {
  constructor(readonly op: string, readonly inputs: readonly Tensor[], readonly fn: BackwardFn,
    /** The arrays fn may read (held against recycling until backward releases this node). */
    readonly held: readonly Float32Array[],
    /** fn only calls backend kernels (no JS reads of values), so a captured training step can record it. */
    readonly capturable: boolean) {}
  backward(): (Tensor | null)[] {
    throw new Error('internal: use runBackward');
  }
}

function secondBackward(): never {
  throw new Error('backward: trying to backward through the graph a second time (its tape was released ' +
    'by the first backward); recompute the forward');
}

/**
 * Attaches a node to `out` when any input requires grad. `inputs` may hold null for optional
 * arguments (the closure returns null in that slot). `capturable`: fn does nothing but call
 * backend kernels on arrays (it never reads values in JS), so it can run under a capture
 * (lib/train/step.ts records a whole training step that way).
 */
export function record(out: Tensor, op: string, inputs: (Tensor | null | undefined)[], fn: BackwardFn,
  capturable = false): Tensor {
  if (!needsGrad(...inputs)) return out;
  const ins = inputs.map((t) => t ?? null) as Tensor[];
  // The closure may read the output's and inputs' arrays after they are disposed.
  const held = [out.data];
  for (const t of ins) if (t && !t.disposed) held.push(t.data);
  for (const a of held) hold(a);
  out.gradNode = new Node(op, ins, fn, held, capturable);
  out.requiresGrad = true;
  return out;
}

function runBackward(root: Tensor, grad?: Tensor): void {
  if (root.disposed) throw new Error(`backward: tensor of shape ${shapeStr(root.shape)} is disposed`);
  if (!root.requiresGrad) {
    throw new Error(`backward: tensor of shape ${shapeStr(root.shape)} does not require grad (no input of the graph has requiresGrad)`);
  }
  if (root.graphReleased) secondBackward();
  let seed: Float32Array;
  if (grad === undefined) {
    if (root.size !== 1) {
      throw new RangeError(`backward: grad can be omitted only for a size-1 tensor, got shape ${shapeStr(root.shape)}`);
    }
    seed = new Float32Array([1]);
  } else {
    if (!(grad instanceof Tensor)) throw new TypeError('backward: grad must be a Tensor');
    if (!sameShape(grad.shape, root.shape)) {
      throw new RangeError(`backward: grad has shape ${shapeStr(grad.shape)}, expected ${shapeStr(root.shape)}`);
    }
    seed = grad.toArray();
  }
  // Reverse topological order by iterative DFS.
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const node = top[0].gradNode as Node | null;
    const inputs = node ? node.inputs : [];
    if (top[1] < inputs.length) {
      const child = inputs[top[1]++];
      if (child && !visited.has(child) && child.requiresGrad) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  // Gradient sums and copies go through the backend, as the closures' kernels do: a captured
  // training step records them too.
  const be = backend();
  const grads = new Map<Tensor, Float32Array>();
  grads.set(root, seed);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = grads.get(t);
    grads.delete(t);
    if (!g) continue;
    const node = t.gradNode as Node | null;
    if (!node) {
      if (t.graphReleased) secondBackward();
      accumulateLeaf(t, g, be);
      continue;
    }
    if (captureState.active && !node.capturable) {
      throw new CaptureUnsupportedError(`the backward of ${node.op} computes on the JS thread`);
    }
    const inGrads = node.fn(g);
    // Each array is handed to one input's gradient at most (a closure that passes g through, or
    // returns one array for two inputs, gets copies for the later ones); the arrays nobody took
    // (g included) go back to the pool.
    const given: Float32Array[] = [];
    node.inputs.forEach((inp, k) => {
      let ig = inGrads[k];
      if (!inp || !ig || !inp.requiresGrad) return;
      const prev = grads.get(inp);
      if (prev) {
        be.accumulate(prev, ig);
        return;
      }
      if (given.includes(ig)) {
        const copy = allocGrad(ig.length);
        be.copy(ig, copy);
        ig = copy;
      }
      given.push(ig);
      grads.set(inp, ig);
    });
    if (!given.includes(g)) recycleGrad(g);
    for (const ig of inGrads) if (ig && !given.includes(ig)) recycleGrad(ig);
  }
  // Release the tape; remember which tensors had a node so a second backward fails loudly.
  for (const t of order) {
    const node = t.gradNode as Node | null;
    if (node) {
      t.gradNode = null;
      t.graphReleased = true;
      for (const a of node.held) release(a);
    }
  }
}

function accumulateLeaf(t: Tensor, g: Float32Array, be: ReturnType<typeof backend>): void {
  if (t.disposed) {
    recycleGrad(g);
    return;
  }
  if (t.grad && !t.grad.disposed) {
    be.accumulate(t.grad.data, g);
    recycleGrad(g);
  } else if (isGradArray(g)) {
    adoptGrad(g);
    t.grad = persist(Tensor.wrap(g, t.shape));
  } else {
    const copy = allocGrad(g.length);
    be.copy(g, copy);
    adoptGrad(copy);
    t.grad = persist(Tensor.wrap(copy, t.shape));
  }
}

setBackwardImpl(runBackward);
setViewHook((src, view) => {
  record(view, 'reshape', [src], (dy) => [dy], true);
});

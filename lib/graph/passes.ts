/**
 * Load-time graph passes (independent of the input shape): constant folding, zero pads folded into
 * the convolution or average pool they feed, batch norm folded into the convolution or dense layer
 * before it, activations fused into the epilogue of the op that produces their input (SiLU
 * recognised as x * sigmoid(x)), and dead-node removal. The residual add is fused per input shape
 * in plan.ts, where shapes are known.
 *
 * Every rewrite applies only where the intermediate it removes has no other reader and is not a
 * graph output. Folding batch norm changes the rounding of the weights (about 1e-7 relative),
 * well inside the 1e-4 that planned inference allows.
 */
import { Tensor } from '../tensor';
import type { Act, Graph, GraphNode } from './ir';
import { readerCounts, runExact } from './ir';

export interface PassContext {
  /** Registers a constant the model owns (disposed with it). */
  own(data: Float32Array, shape: readonly number[]): Tensor;
}

/** Runs the standard pipeline in order. */
export function optimize(g: Graph, ctx: PassContext): void {
  foldConstants(g, ctx);
  foldPads(g);
  foldBatchNorm(g, ctx);
  fuseActivations(g);
  eliminateDead(g);
}

/**
 * Nodes whose inputs are all constants are run once, now, with their exact kernels; their outputs
 * become constants. A node that throws is left in place (its error surfaces when the model runs,
 * named by node, as it would without folding).
 */
export function foldConstants(g: Graph, ctx: PassContext): void {
  const isGraphInput = new Set(g.inputs);
  const kept: GraphNode[] = [];
  for (const n of g.nodes) {
    const foldable = n.inputs.some((i) => i !== '') &&
      n.inputs.every((i) => i === '' || (g.constants.has(i) && !isGraphInput.has(i)));
    if (!foldable) { kept.push(n); continue; }
    let outs: Tensor[];
    try {
      outs = runExact(n, n.inputs.map((i) => (i ? g.constants.get(i)! : null)));
    } catch {
      kept.push(n);
      continue;
    }
    n.outputs.forEach((o, i) => {
      const t = outs[i];
      if (o && t) g.constants.set(o, ctx.own(t.data.slice(), t.shape));
    });
    for (const t of outs) if (t && !t.persistent) t.dispose();
  }
  g.nodes = kept;
}

/**
 * A zero Pad of the spatial axes of NCHW read only by a convolution or an average pool becomes
 * that op's own padding (PyTorch exports F.avg_pool2d(padding=p, count_include_pad=True) as Pad ->
 * AveragePool): for the pool the padded zeros are counted, as they were elements of its input.
 * The merged node's exact kernel is the two exact kernels in sequence.
 */
export function foldPads(g: Graph): void {
  const readers = readerCounts(g);
  const users = new Map<string, GraphNode>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) users.set(i, n);
  const removed = new Set<GraphNode>();
  for (const pad of g.nodes) {
    const op = pad.op;
    if (op.kind !== 'pad' || op.mode !== 'constant' || op.value !== 0 || op.pads.length !== 8) continue;
    const [n0, c0, t, l, n1, c1, b, r] = op.pads;
    if (n0 || c0 || n1 || c1) continue;
    const y = pad.outputs[0];
    const user = users.get(y);
    if (!user || readers.get(y) !== 1 || user.inputs[0] !== y || g.outputs.includes(y)) continue;
    const u = user.op;
    const ok = (u.kind === 'conv' && u.autoPad === 'NOTSET') ||
      (u.kind === 'pool' && u.mode === 'avg' && u.autoPad === 'NOTSET' && !u.ceil && (u.includePad || u.pads.every((v) => v === 0)));
    if (!ok) continue;
    u.pads = [u.pads[0] + t, u.pads[1] + l, u.pads[2] + b, u.pads[3] + r];
    if (u.kind === 'pool') u.includePad = true;
    const padExact = pad.exact, userExact = user.exact;
    const extra = pad.inputs.slice(1);
    user.exact = (xs) => {
      const [padded] = padExact([xs[0], ...extra.map(() => null)]);
      try {
        return userExact([padded, ...xs.slice(1)]);
      } finally {
        if (!padded.persistent && padded !== xs[0]) padded.dispose();
      }
    };
    user.inputs = [pad.inputs[0], ...user.inputs.slice(1)];
    removed.add(pad);
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
}

function constOf(g: Graph, name: string | undefined): Tensor | null {
  return name ? g.constants.get(name) ?? null : null;
}

/**
 * conv -> BatchNormalization (or dense -> BatchNormalization over features) becomes one
 * convolution with scaled weights and a shifted bias:
 *   s = gamma / sqrt(var + eps);  W' = W * s (per output channel);  b' = (b - mean) * s + beta.
 */
export function foldBatchNorm(g: Graph, ctx: PassContext): void {
  const readers = readerCounts(g);
  const byOutput = new Map<string, GraphNode>();
  const removed = new Set<GraphNode>();
  for (const n of g.nodes) {
    if (n.op.kind === 'batchNorm') {
      const src = byOutput.get(n.inputs[0]);
      if (src && readers.get(n.inputs[0]) === 1 && foldInto(g, ctx, src, n)) {
        removed.add(n);
        byOutput.delete(src.outputs[0]);
        src.outputs = [n.outputs[0]];
        byOutput.set(src.outputs[0], src);
        continue;
      }
    }
    if ((n.op.kind === 'conv' || n.op.kind === 'dense') && n.op.act === null && n.outputs.length === 1) {
      byOutput.set(n.outputs[0], n);
    }
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
}

function foldInto(g: Graph, ctx: PassContext, src: GraphNode, bn: GraphNode): boolean {
  if (bn.op.kind !== 'batchNorm' || bn.outputs.filter((o) => o).length !== 1) return false;
  if (src.op.kind === 'conv' && src.op.residual >= 0) return false;
  // A batched dense layer's features are its last axis, not batch norm's axis 1.
  if (src.op.kind === 'dense' && src.op.batched) return false;
  const w = constOf(g, src.inputs[1]);
  if (!w) return false;
  const M = w.shape[0];
  if ((src.op.kind === 'conv' && w.rank !== 4) || (src.op.kind === 'dense' && w.rank !== 2)) return false;
  const b = src.inputs[2] ? constOf(g, src.inputs[2]) : null;
  if (src.inputs[2] && !b) return false;
  const [scale, shift, mean, variance] = bn.inputs.slice(1, 5).map((i) => constOf(g, i));
  if (!scale || !shift || !mean || !variance) return false;
  for (const p of [scale, shift, mean, variance, b]) if (p && (p.rank !== 1 || p.shape[0] !== M)) return false;
  const eps = bn.op.eps;
  const per = w.size / M;
  const wd = w.data, nw = new Float32Array(w.size), nb = new Float32Array(M);
  for (let m = 0; m < M; m++) {
    const s = scale.data[m] / Math.sqrt(variance.data[m] + eps);
    for (let i = 0; i < per; i++) nw[m * per + i] = wd[m * per + i] * s;
    nb[m] = ((b ? b.data[m] : 0) - mean.data[m]) * s + shift.data[m];
  }
  const wName = `${src.inputs[1]}::bn_folded(${bn.label})`, bName = `${bn.outputs[0]}::bn_folded_bias`;
  g.constants.set(wName, ctx.own(nw, w.shape));
  g.constants.set(bName, ctx.own(nb, [M]));
  src.inputs = [src.inputs[0], wName, bName, ...src.inputs.slice(3)];
  return true;
}

/**
 * An activation whose input is a conv/dense output read by nothing else becomes that op's epilogue.
 * x * sigmoid(x) with x such an output (read only by the Sigmoid and the Mul) becomes SiLU.
 * Also applied per input shape after residual fusion (plan.ts), so Add -> Relu lands in the
 * convolution that absorbed the Add.
 */
export function fuseActivations(g: Graph): void {
  const readers = readerCounts(g);
  const byOutput = new Map<string, GraphNode>();
  const users = new Map<string, GraphNode[]>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) (users.get(i) ?? users.set(i, []).get(i)!).push(n);
  const removed = new Set<GraphNode>();
  const absorb = (src: GraphNode, act: Act, last: GraphNode): void => {
    if (src.op.kind !== 'conv' && src.op.kind !== 'dense') return;
    src.op.act = act;
    byOutput.delete(src.outputs[0]);
    src.outputs = [last.outputs[0]];
    byOutput.set(src.outputs[0], src);
  };
  for (const n of g.nodes) {
    if (removed.has(n)) continue;
    if (n.op.kind === 'act') {
      const x = n.inputs[0];
      const src = byOutput.get(x);
      if (src && (src.op.kind === 'conv' || src.op.kind === 'dense') && src.op.act === null) {
        if (readers.get(x) === 1) {
          absorb(src, n.op.act, n);
          removed.add(n);
          continue;
        }
        // SiLU: y = x * sigmoid(x).
        const mul = siluMul(n, users, readers, x);
        if (mul) {
          absorb(src, { kind: 'silu', alpha: 0, beta: 0 }, mul);
          removed.add(n);
          removed.add(mul);
          continue;
        }
      }
    }
    if ((n.op.kind === 'conv' || n.op.kind === 'dense') && n.op.act === null && n.outputs.length === 1) {
      byOutput.set(n.outputs[0], n);
    }
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
}

function siluMul(sig: GraphNode, users: Map<string, GraphNode[]>, readers: Map<string, number>, x: string): GraphNode | null {
  if (sig.op.kind !== 'act' || sig.op.act.kind !== 'sigmoid' || readers.get(x) !== 2) return null;
  const s = sig.outputs[0];
  if (readers.get(s) !== 1) return null;
  const mul = users.get(s)?.[0];
  if (!mul || mul.op.kind !== 'binary' || mul.op.op !== 'mul') return null;
  const ins = mul.inputs;
  return (ins[0] === x && ins[1] === s) || (ins[0] === s && ins[1] === x) ? mul : null;
}

/** Removes nodes none of whose outputs is read (by a node or as a graph output). */
export function eliminateDead(g: Graph): void {
  const live = new Set(g.outputs);
  const kept: GraphNode[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outputs.some((o) => o && live.has(o))) continue;
    kept.push(n);
    for (const inp of n.inputs) if (inp) live.add(inp);
  }
  g.nodes = kept.reverse();
  for (const name of [...g.constants.keys()]) if (!live.has(name)) g.constants.delete(name);
}

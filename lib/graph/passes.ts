/**
 * Load-time graph passes (independent of the input shape): constant folding, zero pads folded into
 * the convolution or average pool they feed, batch norm folded into the convolution or dense layer
 * before it, activations fused into the epilogue of the op that produces their input (SiLU
 * recognised as x * sigmoid(x)), the bias Add after a MatMul by a constant taken into the dense
 * layer, layer norm and GELU recognised in the ops PyTorch exports for them, and dead-node removal. The residual add is fused per input shape
 * in plan.ts, where shapes are known.
 *
 * Every rewrite applies only where the intermediate it removes has no other reader and is not a
 * graph output. Folding batch norm changes the rounding of the weights (about 1e-7 relative),
 * well inside the 1e-4 that planned inference allows.
 */
import { Tensor } from '../tensor';
import type { Act, Graph, GraphNode } from './ir';
import { producers, readerCounts, runExact } from './ir';

export interface PassContext {
  /** Registers a constant the model owns (disposed with it). */
  own(data: Float32Array, shape: readonly number[]): Tensor;
  /**
   * True when the front end made constant t for this graph alone, its data shared with no other
   * tensor (an ONNX initializer's decoded copy; never an nn module's parameter): a pass may then
   * rewrite it in place instead of allocating a replacement.
   */
  overwritable?(t: Tensor): boolean;
}

/** Runs the standard pipeline in order. */
export function optimize(g: Graph, ctx: PassContext): void {
  foldConstants(g, ctx);
  foldPads(g);
  foldBatchNorm(g, ctx);
  fuseDenseBias(g);
  fuseLayerNorm(g);
  fuseGelu(g);
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
      if (src && readers.get(n.inputs[0]) === 1 && foldInto(g, ctx, src, n, readers)) {
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

function foldInto(g: Graph, ctx: PassContext, src: GraphNode, bn: GraphNode, readers: Map<string, number>): boolean {
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
  // Weights read by this layer alone and made for this graph are scaled in place: a model's
  // weights are then not held twice while it loads (ResNet-50: ~100 MB less at the peak).
  const inPlace = readers.get(src.inputs[1]) === 1 && !g.outputs.includes(src.inputs[1]) && (ctx.overwritable?.(w) ?? false);
  const wd = w.data, nw = inPlace ? wd : new Float32Array(w.size), nb = new Float32Array(M);
  for (let m = 0; m < M; m++) {
    const s = scale.data[m] / Math.sqrt(variance.data[m] + eps);
    for (let i = 0; i < per; i++) nw[m * per + i] = wd[m * per + i] * s;
    nb[m] = ((b ? b.data[m] : 0) - mean.data[m]) * s + shift.data[m];
  }
  const wName = `${src.inputs[1]}::bn_folded(${bn.label})`, bName = `${bn.outputs[0]}::bn_folded_bias`;
  g.constants.set(wName, inPlace ? w : ctx.own(nw, w.shape));
  g.constants.set(bName, ctx.own(nb, [M]));
  src.inputs = [src.inputs[0], wName, bName, ...src.inputs.slice(3)];
  return true;
}

/**
 * An activation whose input is a conv/dense output read by nothing else becomes that op's epilogue.
 * x * sigmoid(x) with x such an output (read only by the Sigmoid and the Mul) becomes SiLU, and
 * x * hardSigmoid(x) with HardSwish's constants HardSwish.
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
        // SiLU: y = x * sigmoid(x); HardSwish: y = x * hardSigmoid(x) with alpha 1/6, beta 1/2
        // (how torch.onnx.export writes nn.Hardswish before opset 14: MobileNetV3's 20 of them).
        const mul = gateMul(n, users, readers, x);
        if (mul) {
          absorb(src, { kind: n.op.act.kind === 'sigmoid' ? 'silu' : 'hardSwish', alpha: 0, beta: 0 }, mul);
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

/**
 * The Mul of x * gate(x), gate = Sigmoid, or HardSigmoid with HardSwish's constants (alpha 1/6 as
 * float32 stores it, beta 1/2), when x is read by those two alone and the gate by the Mul alone.
 */
function gateMul(sig: GraphNode, users: Map<string, GraphNode[]>, readers: Map<string, number>, x: string): GraphNode | null {
  if (sig.op.kind !== 'act' || readers.get(x) !== 2) return null;
  const a = sig.op.act;
  const hardSwishGate = a.kind === 'hardSigmoid' && Math.abs(a.alpha - 1 / 6) <= 1e-7 && a.beta === 0.5;
  if (a.kind !== 'sigmoid' && !hardSwishGate) return null;
  const s = sig.outputs[0];
  if (readers.get(s) !== 1) return null;
  const mul = users.get(s)?.[0];
  if (!mul || mul.op.kind !== 'binary' || mul.op.op !== 'mul') return null;
  const ins = mul.inputs;
  return (ins[0] === x && ins[1] === s) || (ins[0] === s && ins[1] === x) ? mul : null;
}

/**
 * F.layer_norm over the last axis as torch.onnx.export writes it at opsets before 17:
 *   m = ReduceMean(x, [-1]); d = x - m; v = ReduceMean(d * d, [-1]) (Pow(d, 2) is lowered to d * d);
 *   y = d / Sqrt(v + eps), then optionally y * weight + bias with 1-D constants
 * becomes one 'layerNorm' node (one pass over the rows instead of nine over the tensor). Every
 * intermediate must be read only inside the pattern. The fused node's exact kernel replays the
 * original ops, so a weight that broadcasts some other way still means what the file says.
 */
export function fuseLayerNorm(g: Graph): void {
  const prod = producers(g);
  const readers = readerCounts(g);
  const only = (v: string, k: number): boolean => readers.get(v) === k;
  const binary = (n: GraphNode | undefined, op: string): n is GraphNode =>
    n !== undefined && n.op.kind === 'binary' && n.op.op === op;
  const meanLast = (n: GraphNode | undefined): n is GraphNode =>
    n !== undefined && n.op.kind === 'reduceMean' && n.op.keepDims && n.op.axes.length === 1 && n.op.axes[0] === -1;
  const vector = (name: string): Tensor | null => {
    const t = g.constants.get(name);
    return t && t.shape.length === 1 ? t : null;
  };
  const removed = new Set<GraphNode>();
  const replaced = new Map<GraphNode, GraphNode>();
  for (const div of g.nodes) {
    if (!binary(div, 'div') || removed.has(div)) continue;
    const [d, s] = div.inputs;
    const sub = prod.get(d), sqrt = prod.get(s);
    if (!binary(sub, 'sub') || !sqrt || sqrt.op.kind !== 'act' || sqrt.op.act.kind !== 'sqrt') continue;
    const [x, m] = sub.inputs;
    const mean = prod.get(m);
    if (!meanLast(mean) || mean.inputs[0] !== x) continue;
    const addEps = prod.get(sqrt.inputs[0]);
    if (!binary(addEps, 'add')) continue;
    const epsAt = addEps.inputs.findIndex((i) => g.constants.get(i)?.size === 1);
    if (epsAt < 0) continue;
    const eps = g.constants.get(addEps.inputs[epsAt])!.data[0];
    const variance = prod.get(addEps.inputs[1 - epsAt]);
    if (!meanLast(variance)) continue;
    const sq = prod.get(variance.inputs[0]);
    if (!binary(sq, 'mul') || sq.inputs[0] !== d || sq.inputs[1] !== d) continue;
    if (!only(m, 1) || !only(d, 3) || !only(sq.outputs[0], 1) || !only(variance.outputs[0], 1) ||
      !only(addEps.outputs[0], 1) || !only(s, 1) || !(eps >= 0)) continue;
    const chain = [mean, sub, sq, variance, addEps, sqrt, div];
    // The affine part: y * weight, then + bias, each a 1-D constant (checked against the last axis
    // when a plan knows the shapes).
    let weight = '', bias = '';
    let last = div;
    const readerOf = (v: string): GraphNode | undefined => (only(v, 1) ? g.nodes.find((n) => n.inputs.includes(v)) : undefined);
    const mul = readerOf(div.outputs[0]);
    if (binary(mul, 'mul')) {
      const w = mul.inputs[0] === div.outputs[0] ? mul.inputs[1] : mul.inputs[0];
      if (vector(w)) {
        weight = w;
        last = mul;
        chain.push(mul);
        const add = readerOf(mul.outputs[0]);
        if (binary(add, 'add')) {
          const b = add.inputs[0] === mul.outputs[0] ? add.inputs[1] : add.inputs[0];
          if (vector(b)) {
            bias = b;
            last = add;
            chain.push(add);
          }
        }
      }
    }
    const epsName = addEps.inputs[epsAt], epsTensor = g.constants.get(epsName)!;
    const epsShape = epsTensor.shape.slice();
    const out = last.outputs[0];
    const fused: GraphNode = {
      label: `${div.label} (layer norm of ${chain.length} ops)`,
      op: { kind: 'layerNorm', eps },
      inputs: [x, weight, bias],
      outputs: [out],
      exact: (ins) => {
        const vals = new Map<string, Tensor | null>([[x, ins[0]], [epsName, Tensor.wrap(Float32Array.of(eps), epsShape)]]);
        if (weight) vals.set(weight, ins[1]);
        if (bias) vals.set(bias, ins[2]);
        for (const c of chain) {
          const r = c.exact(c.inputs.map((i) => (i ? vals.get(i) ?? null : null)));
          c.outputs.forEach((o, k) => vals.set(o, r[k]));
        }
        return [vals.get(out)!];
      },
    };
    for (const c of chain) removed.add(c);
    replaced.set(last, fused);
  }
  if (removed.size === 0) return;
  g.nodes = g.nodes.flatMap((n) => (replaced.has(n) ? [replaced.get(n)!] : removed.has(n) ? [] : [n]));
}

/** A constant of one element (any rank), or undefined. */
function scalarConst(g: Graph, name: string): number | undefined {
  const t = g.constants.get(name);
  return t && t.size === 1 ? t.data[0] : undefined;
}

/**
 * Add(dense(x), b) with b a 1-D constant of the dense layer's output width, the dense layer
 * without bias or activation and read only by the Add: the bias joins the dense layer (a Linear
 * exported as MatMul + Add, as in ConvNeXt's MLP).
 */
export function fuseDenseBias(g: Graph): void {
  const prod = producers(g);
  const readers = readerCounts(g);
  const removed = new Set<GraphNode>();
  for (const add of g.nodes) {
    if (add.op.kind !== 'binary' || add.op.op !== 'add') continue;
    for (const k of [0, 1]) {
      const d = prod.get(add.inputs[k]);
      const b = g.constants.get(add.inputs[1 - k]);
      if (!d || d.op.kind !== 'dense' || d.op.act !== null || (d.inputs[2] ?? '') !== '' || readers.get(add.inputs[k]) !== 1) continue;
      const w = g.constants.get(d.inputs[1]);
      if (!w || !b || b.shape.length !== 1 || b.size !== w.shape[0]) continue;
      d.inputs = [d.inputs[0], d.inputs[1], add.inputs[1 - k]];
      d.outputs = [add.outputs[0]];
      removed.add(add);
      break;
    }
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
}

/**
 * GELU as torch.onnx.export writes nn.GELU(): Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5) (or
 * x * (1 / sqrt 2) inside, and the products in either order) becomes one gelu act, which the
 * producer of x then takes into its epilogue. The fused node's exact kernel replays the ops.
 */
export function fuseGelu(g: Graph): void {
  const prod = producers(g);
  const readers = readerCounts(g);
  const users = new Map<string, GraphNode[]>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) (users.get(i) ?? users.set(i, []).get(i)!).push(n);
  const near = (v: number | undefined, want: number): boolean => v !== undefined && Math.abs(v - want) <= 1e-6 * want;
  const soleUser = (v: string): GraphNode | undefined => (readers.get(v) === 1 ? users.get(v)?.[0] : undefined);
  const isBinary = (n: GraphNode | undefined, op: string): n is GraphNode => n !== undefined && n.op.kind === 'binary' && n.op.op === op;
  // The other input of a binary node, given one of them.
  const other = (n: GraphNode, v: string): string => (n.inputs[0] === v ? n.inputs[1] : n.inputs[0]);
  const removed = new Set<GraphNode>();
  const replaced = new Map<GraphNode, GraphNode>();
  for (const erf of g.nodes) {
    if (erf.op.kind !== 'act' || erf.op.act.kind !== 'erf' || removed.has(erf)) continue;
    const scale = prod.get(erf.inputs[0]);
    if (!scale || readers.get(erf.inputs[0]) !== 1) continue;
    let x: string;
    if (isBinary(scale, 'div') && near(scalarConst(g, scale.inputs[1]), Math.SQRT2)) x = scale.inputs[0];
    else if (isBinary(scale, 'mul') && near(scalarConst(g, scale.inputs[1]), Math.SQRT1_2)) x = scale.inputs[0];
    else if (isBinary(scale, 'mul') && near(scalarConst(g, scale.inputs[0]), Math.SQRT1_2)) x = scale.inputs[1];
    else continue;
    const plus = soleUser(erf.outputs[0]);
    if (!isBinary(plus, 'add') || !near(scalarConst(g, other(plus, erf.outputs[0])), 1)) continue;
    const times = soleUser(plus.outputs[0]);
    if (!isBinary(times, 'mul') || other(times, plus.outputs[0]) !== x) continue;
    const half = soleUser(times.outputs[0]);
    if (!isBinary(half, 'mul') || !near(scalarConst(g, other(half, times.outputs[0])), 0.5)) continue;
    const chain = [scale, erf, plus, times, half];
    const consts = chain.flatMap((c) => c.inputs.filter((i) => g.constants.has(i)).map((i) => [i, g.constants.get(i)!] as const));
    const out = half.outputs[0];
    const fused: GraphNode = {
      label: `${erf.label} (GELU of ${chain.length} ops)`,
      op: { kind: 'act', act: { kind: 'gelu', alpha: 0, beta: 0 } },
      inputs: [x],
      outputs: [out],
      exact: (ins) => {
        const vals = new Map<string, Tensor | null>(consts.map(([k, t]) => [k, Tensor.wrap(t.data.slice(), t.shape)]));
        vals.set(x, ins[0]);
        for (const c of chain) {
          const r = c.exact(c.inputs.map((i) => (i ? vals.get(i) ?? null : null)));
          c.outputs.forEach((o, k) => vals.set(o, r[k]));
        }
        return [vals.get(out)!];
      },
    };
    for (const c of chain) removed.add(c);
    replaced.set(half, fused);
  }
  if (removed.size === 0) return;
  g.nodes = g.nodes.flatMap((n) => (replaced.has(n) ? [replaced.get(n)!] : removed.has(n) ? [] : [n]));
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

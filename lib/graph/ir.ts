/**
 * The inference graph every front end lowers into (lib/io/onnx today): nodes over named values,
 * float constants held as tensors, and for each node both a description the compiler understands
 * (`GraphOp`: what it may fuse, plan and run on the native kernels) and the exact kernel of its
 * front end (`exact`: the op's reference semantics on tensors, used where no plan applies, for
 * constant folding and to infer the shapes of ops the compiler does not know).
 *
 * Front end -> Graph -> load-time passes (passes.ts) -> per-input-shape plan (plan.ts) -> addon.
 */
import { tidy, type Tensor } from '../tensor';
import { noGrad } from '../autograd/tape';
import { erfScalar, geluScalar } from '../backend/js/activation';
import type { BinaryKind } from '../backend/types';

/** The activation an epilogue or an elementwise node applies (run by the backend's unary kinds, native/kernels/act/unary.h). */
export type ActKind = 'relu' | 'leakyRelu' | 'clip' | 'sigmoid' | 'silu' | 'hardSigmoid' | 'hardSwish' | 'tanh' | 'sqrt' | 'erf' | 'gelu';

export interface Act {
  kind: ActKind;
  /** leakyRelu: slope; clip: min; hardSigmoid: alpha. */
  alpha: number;
  /** clip: max; hardSigmoid: beta. */
  beta: number;
}

export interface SliceAxis { start: number; step: number; count: number }

export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

/** What the compiler knows about a node. 'opaque' nodes run their exact kernel. */
export type GraphOp =
  | {
    kind: 'conv';
    strides: number[]; dilations: number[]; groups: number;
    /** [top, left, bottom, right] unless autoPad resolves them per input size. */
    pads: number[]; autoPad: AutoPad;
    /** Fused epilogue (passes): out = act(conv(x) + b + residual). */
    act: Act | null;
    /** Index of the fused residual input (after x, w, b), or -1. */
    residual: number;
    /** Per-layer switches (nn's setFastInference): false forbids Winograd / prepared weights. */
    winograd?: boolean; pack?: boolean;
  }
  /**
   * y[N, out] = act(x[N, in] W^T + b): W is a constant [out, in] (Gemm lowered). `batched`: x may
   * have any rank >= 2, its leading axes being the rows (MatMul by a constant matrix).
   */
  | { kind: 'dense'; act: Act | null; pack?: boolean; batched?: boolean }
  | { kind: 'batchNorm'; eps: number }
  /**
   * inputs [x, weight, bias] (weight, bias may be ''): x normalised over its last axis (mean, biased
   * variance, eps), times weight and plus bias. Made by passes.fuseLayerNorm from the ops PyTorch
   * exports for F.layer_norm; the exact kernel is those ops', so any broadcast they meant holds.
   */
  | { kind: 'layerNorm'; eps: number }
  | { kind: 'act'; act: Act }
  | {
    kind: 'pool'; mode: 'max' | 'avg';
    k: number[]; s: number[]; d: number[]; pads: number[]; autoPad: AutoPad; ceil: boolean; includePad: boolean;
  }
  | { kind: 'globalPool'; mode: 'max' | 'avg' }
  /** PyTorch's adaptive average pool to [h, w] (null keeps the input's size). */
  | { kind: 'adaptiveAvgPool'; size: readonly (number | null)[] }
  /** Mean over `axes` (negative counts from the end; empty: every axis). */
  | { kind: 'reduceMean'; axes: number[]; keepDims: boolean }
  /** ONNX Pad: pads [x1_begin, x2_begin, ..., x1_end, x2_end, ...] (>= 0), `value` in constant mode. */
  | { kind: 'pad'; pads: number[]; mode: 'constant' | 'reflect' | 'edge'; value: number }
  | { kind: 'binary'; op: BinaryKind }
  | { kind: 'softmax'; axis: number; log: boolean; legacy: boolean }
  /**
   * The output is the input's data under another shape (Reshape, Flatten, Identity, Dropout).
   * `args` are the node's inputs whose values are known when planning (a Reshape's shape input).
   */
  | { kind: 'view'; shape: (input: readonly number[], args: readonly (Tensor | null)[]) => number[] }
  /** Axes permuted (null: reversed). */
  | { kind: 'transpose'; perm: number[] | null }
  /**
   * Per axis, `count` elements from `start` every `step`, resolved for an input shape; null when
   * the node runs exactly (bounds not known when planning, or negative steps).
   */
  | { kind: 'slice'; region: (input: readonly number[], args: readonly (Tensor | null)[]) => SliceAxis[] | null }
  /** The input's shape [start, end) as a 1-D value, known when planning (ONNX Shape). */
  | { kind: 'shape'; start: number; end: number | null }
  | { kind: 'concat'; axis: number }
  | { kind: 'opaque' };

/** Runs a node exactly: inputs in order (null for absent or load-time inputs). */
export type ExactKernel = (inputs: (Tensor | null)[]) => Tensor[];

export interface GraphNode {
  /** For messages: "node 'conv1' (Conv)". */
  label: string;
  op: GraphOp;
  /** Value names; '' for absent inputs and for inputs consumed at load (integer shapes). */
  inputs: string[];
  outputs: string[];
  exact: ExactKernel;
}

export interface Graph {
  nodes: GraphNode[];
  /** Graph inputs (fed at run time), in order. */
  inputs: string[];
  outputs: string[];
  /** Float constants by value name (weights; the model owns the tensors). */
  constants: Map<string, Tensor>;
}

/**
 * A node's exact kernel without gradients; whatever it allocates on the way (views, transposed
 * operands) is released, only its outputs survive.
 */
export function runExact(n: GraphNode, args: (Tensor | null)[]): Tensor[] {
  return noGrad(() => tidy(() => n.exact(args)));
}

/** How many nodes read each value (graph outputs count as a reader). */
export function readerCounts(g: Graph): Map<string, number> {
  const n = new Map<string, number>();
  for (const node of g.nodes) for (const i of node.inputs) if (i) n.set(i, (n.get(i) ?? 0) + 1);
  for (const o of g.outputs) n.set(o, (n.get(o) ?? 0) + 1);
  return n;
}

/** The node producing each value. */
export function producers(g: Graph): Map<string, GraphNode> {
  const p = new Map<string, GraphNode>();
  for (const node of g.nodes) for (const o of node.outputs) if (o) p.set(o, node);
  return p;
}

/** A shallow copy whose nodes (and their op records and name lists) may be rewritten freely. */
export function cloneGraph(g: Graph): Graph {
  return {
    nodes: g.nodes.map((n) => ({ ...n, op: { ...n.op }, inputs: n.inputs.slice(), outputs: n.outputs.slice() }) as GraphNode),
    inputs: g.inputs.slice(),
    outputs: g.outputs.slice(),
    constants: new Map(g.constants),
  };
}

/** [top, left, bottom, right] for an input of H x W (ONNX auto_pad). */
export function resolvePads(mode: AutoPad, pads: number[], H: number, W: number, k: number[], s: number[], d: number[]): number[] {
  if (mode === 'NOTSET') return pads;
  if (mode === 'VALID') return [0, 0, 0, 0];
  const out = [0, 0, 0, 0];
  [H, W].forEach((I, i) => {
    const total = Math.max(0, (Math.ceil(I / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - I);
    const small = total >> 1;
    const begin = mode === 'SAME_UPPER' ? small : total - small;
    out[i] = begin;
    out[i + 2] = total - begin;
  });
  return out;
}

/** The activation as a scalar function (reference semantics; the JS thread's fallback). */
export function actFunction(a: Act): (v: number) => number {
  switch (a.kind) {
    case 'relu': return (v) => (v < 0 ? 0 : v);
    case 'leakyRelu': return (v) => (v < 0 ? v * a.alpha : v);
    case 'clip': return (v) => (v < a.alpha ? a.alpha : v > a.beta ? a.beta : v);
    case 'sigmoid': return (v) => 1 / (1 + Math.exp(-v));
    case 'silu': return (v) => v / (1 + Math.exp(-v));
    case 'hardSigmoid': return (v) => Math.max(0, Math.min(1, a.alpha * v + a.beta));
    case 'hardSwish': return (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5));
    case 'tanh': return (v) => Math.tanh(v);
    case 'sqrt': return (v) => Math.sqrt(v);
    case 'erf': return erfScalar;
    case 'gelu': return geluScalar;
  }
}

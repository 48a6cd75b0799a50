/**
 * Load-time graph rewrites for inference (on a validated, topologically ordered node list):
 *  - BatchNormalization after a Conv whose weights are constants is folded into the weights;
 *  - a Relu right after a Conv runs as the convolution's fused epilogue.
 * Both apply only when the Conv output has no other reader and is not a graph output. Outputs
 * stay within float32 rounding of the unfused graph (about 1e-6 relative), well inside the
 * 1e-4 that planned inference allows.
 */
import type { NodeProto, TensorData } from './proto';

/** A Conv node may carry a fused activation. */
export type FusedNode = NodeProto & { fusedRelu?: boolean };

function floatAttr(n: NodeProto, name: string, def: number): number {
  const a = n.attribute.find((x) => x.name === name);
  return a && a.f !== undefined ? a.f : def;
}

function intAttr(n: NodeProto, name: string, def: number): number {
  const a = n.attribute.find((x) => x.name === name);
  return a && a.i !== undefined ? a.i : def;
}

export function fuseForInference(nodes: NodeProto[], consts: Map<string, TensorData>, graphOutputs: Set<string>): FusedNode[] {
  const readers = new Map<string, number>();
  for (const n of nodes) for (const i of n.input) if (i) readers.set(i, (readers.get(i) ?? 0) + 1);
  const soleReader = (name: string): boolean => readers.get(name) === 1 && !graphOutputs.has(name);
  const out: FusedNode[] = [];
  const byOutput = new Map<string, FusedNode>();
  let uid = 0;
  for (const node of nodes) {
    const src = node.input[0] ? byOutput.get(node.input[0]) : undefined;
    if (src && soleReader(node.input[0]) && !src.fusedRelu && node.output.length >= 1) {
      if (node.opType === 'BatchNormalization' && node.input.length === 5 && node.output.filter((o) => o).length === 1 &&
        intAttr(node, 'training_mode', 0) === 0 && intAttr(node, 'spatial', 1) === 1) {
        const folded = foldBn(src, node, consts, uid++);
        if (folded) {
          byOutput.delete(src.output[0]);
          src.input = folded;
          src.output = [node.output[0]];
          byOutput.set(node.output[0], src);
          continue;
        }
      }
      if (node.opType === 'Relu' && node.attribute.length === 0) {
        byOutput.delete(src.output[0]);
        src.fusedRelu = true;
        src.output = [node.output[0]];
        byOutput.set(node.output[0], src);
        continue;
      }
    }
    const copy: FusedNode = { ...node, input: node.input.slice(), output: node.output.slice() };
    out.push(copy);
    if (copy.opType === 'Conv' && copy.output.length === 1) byOutput.set(copy.output[0], copy);
  }
  return out;
}

/** New [weight, bias] constant names for conv followed by bn, or null when not foldable. */
function foldBn(conv: NodeProto, bn: NodeProto, consts: Map<string, TensorData>, uid: number): string[] | null {
  const f = (name: string | undefined): (TensorData & { kind: 'float' }) | null => {
    const c = name ? consts.get(name) : undefined;
    return c && c.kind === 'float' ? c : null;
  };
  const w = f(conv.input[1]);
  if (!w || w.dims.length !== 4) return null;
  const M = w.dims[0];
  const b = conv.input[2] ? f(conv.input[2]) : null;
  if (conv.input[2] && !b) return null;
  const [scale, shift, mean, v] = bn.input.slice(1).map(f);
  for (const p of [scale, shift, mean, v, b]) if (p && (p.dims.length !== 1 || p.dims[0] !== M)) return null;
  if (!scale || !shift || !mean || !v) return null;
  const eps = floatAttr(bn, 'epsilon', 1e-5);
  const per = w.data.length / M;
  const nw = new Float32Array(w.data.length), nb = new Float32Array(M);
  for (let m = 0; m < M; m++) {
    const s = scale.data[m] / Math.sqrt(v.data[m] + eps);
    for (let i = 0; i < per; i++) nw[m * per + i] = w.data[m * per + i] * s;
    nb[m] = ((b ? b.data[m] : 0) - mean.data[m]) * s + shift.data[m];
  }
  const wn = `${conv.input[1]}::bn_folded_${uid}`, bnn = `${bn.output[0]}::bn_folded_bias_${uid}`;
  consts.set(wn, { kind: 'float', dims: w.dims.slice(), data: nw });
  consts.set(bnn, { kind: 'float', dims: [M], data: nb });
  return [conv.input[0], wn, bnn];
}

/**
 * Receptive-field arithmetic per spatial layer: with r the field size, j the jump (input pixels
 * between neighbouring outputs) and start the input coordinate of the first output's field centre
 * (pixel centres at 0, 1, ...), a layer of kernel k, stride s, dilation d and leading padding p gives
 *   r += d(k-1) j;   start += ((k-1)/2 d - p) j;   j *= s.
 * The layers are found by tracing one forward pass, so a branch (a residual shortcut) starts from
 * the field of the tensor it actually reads; a tensor made by a functional op (add, flatten) takes
 * the largest field computed so far, which for a sum of branches is the field of the sum.
 */
import { Tensor } from '../tensor';
import { Module, batchedShape, withLeafHooks } from './module';
import { Conv2d } from './conv';
import { AdaptiveAvgPool2d, AvgPool2d, GlobalAvgPool2d, GlobalMaxPool2d, MaxPool2d, MinPool2d } from './pool';
import { adaptiveBins } from './adaptive-avg-pool';
import { describe } from '../errors';

interface Axis { size: number; jump: number; start: number }

export interface ReceptiveFieldRow {
  /** State-dict path of the layer, e.g. `features.3`. */
  name: string;
  type: string;
  /** Field size along H (the usual square case: along both axes). */
  size: number;
  jump: number;
  start: number;
  /** [H, W] values, for non-square kernels, strides or paddings. */
  sizeHW: [number, number];
  jumpHW: [number, number];
  startHW: [number, number];
}

interface Geometry { k: [number, number]; s: [number, number]; d: [number, number]; p: [number, number] }

/** The sliding-window geometry of a spatial layer, or null for layers that keep the field. */
function geometry(m: Module, x: Tensor): Geometry | null {
  if (m instanceof Conv2d) return { k: m.kernelSize, s: m.stride, d: m.dilation, p: [m.padding4[0], m.padding4[1]] };
  if (m instanceof MaxPool2d) return { k: m.kernelSize, s: m.stride, d: m.dilation, p: m.padding };
  if (m instanceof AvgPool2d || m instanceof MinPool2d) return { k: m.kernelSize, s: m.stride, d: [1, 1], p: m.padding };
  const H = x.rank === 4 ? x.shape[2] : 1, W = x.rank === 4 ? x.shape[3] : 1;
  if (m instanceof GlobalAvgPool2d || m instanceof GlobalMaxPool2d) return { k: [H, W], s: [1, 1], d: [1, 1], p: [0, 0] };
  if (m instanceof AdaptiveAvgPool2d) {
    const [OH, OW] = m.resolve(H, W);
    // Exact when the bins tile the input; otherwise the widest bin and the mean step.
    const axis = (I: number, O: number): [number, number] => {
      if (I % O === 0) return [I / O, I / O];
      return [Math.max(...adaptiveBins(I, O).map(([a, b]) => b - a)), I / O];
    };
    const [kh, sh] = axis(H, OH), [kw, sw] = axis(W, OW);
    return { k: [kh, kw], s: [sh, sw], d: [1, 1], p: [0, 0] };
  }
  return null;
}

/**
 * Receptive field after each convolution and pooling layer of `module` for an input of
 * `inputShape` (`[C, H, W]` or `[N, C, H, W]`), in call order.
 * @example receptiveField(new nn.Sequential(conv3, conv3, conv3), [1, 32, 32]).map((r) => r.size) // [3, 5, 7]
 */
export function receptiveField(module: Module, inputShape: readonly number[]): ReceptiveFieldRow[] {
  const op = 'receptiveField';
  if (!(module instanceof Module)) throw new TypeError(`${op}: module must be a Module, got ${describe(module)}`);
  const shape = batchedShape(op, inputShape);
  const info = new Map<Tensor, [Axis, Axis]>();
  const seen: [Axis, Axis][] = [];
  const base: [Axis, Axis] = [{ size: 1, jump: 1, start: 0 }, { size: 1, jump: 1, start: 0 }];
  const rows: ReceptiveFieldRow[] = [];
  const lookup = (x: Tensor): [Axis, Axis] => {
    const known = info.get(x);
    if (known) return known;
    let best = base;
    for (const f of seen) if (f[0].size * f[1].size >= best[0].size * best[1].size) best = f;
    return best;
  };
  const leaves = module.namedModules().filter(([, m]) => m.namedChildren().length === 0);
  withLeafHooks(leaves, (name, m, x, y) => {
    const inF = lookup(x);
    const g = x instanceof Tensor ? geometry(m, x) : null;
    let outF = inF;
    if (g) {
      outF = [0, 1].map((a) => {
        const { size, jump, start } = inF[a];
        const k = g.k[a], s = g.s[a], d = g.d[a], p = g.p[a];
        return { size: size + d * (k - 1) * jump, start: start + (((k - 1) / 2) * d - p) * jump, jump: jump * s };
      }) as [Axis, Axis];
      rows.push({
        name, type: m.constructor.name,
        size: outF[0].size, jump: outF[0].jump, start: outF[0].start,
        sizeHW: [outF[0].size, outF[1].size], jumpHW: [outF[0].jump, outF[1].jump], startHW: [outF[0].start, outF[1].start],
      });
      seen.push(outF);
    }
    if (y instanceof Tensor) info.set(y, outF);
  }, () => module.inferenceRun(shape, (x) => info.set(x, base)));
  return rows;
}

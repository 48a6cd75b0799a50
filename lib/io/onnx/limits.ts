/**
 * loadOnnx's memory budget. A hostile file must not make the process allocate without bound: the
 * tensors decoded at load are charged against `maxBytes`, and so is every tensor an op makes when a
 * plan is built or run, together with the plan's arena, beyond what the inputs themselves justify.
 *
 * Budgets:
 * - load: the bytes of every decoded tensor (initializers, Constant values, external data; 4 per
 *   float, 8 per integer, which is held as a JS number), and the constants folded at load, must stay
 *   within maxBytes. Default: max(64 MiB, 4 x the file size, external data included).
 * - per plan (an input shape): the arena, and each tensor an exactly-run op returns, must stay
 *   within maxBytes + 64 x the bytes of the inputs fed. The ops whose output size is set by values
 *   in the file (ConstantOfShape, Expand, Tile, Pad, Resize, Upsample, Range; the pads, strides and
 *   output_shape of Conv, ConvTranspose and the pools) are checked before they allocate.
 */
import type { Tensor } from '../../tensor';
import type { GraphNode } from '../../graph/ir';
import type { NodeProto } from './proto';
import { fail } from './protobuf';

/** The budget floor, so that small files still run on real inputs. */
export const MIN_BUDGET_BYTES = 64 * 2 ** 20;
/** The default budget is this multiple of the file size (external data included). */
export const FILE_MULTIPLE = 4;
/** A plan may use this many bytes per byte of its inputs beyond maxBytes. */
export const INPUT_MULTIPLE = 64;

const MiB = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** What one model (and its specialisations) may allocate. */
export class MemoryBudget {
  /** Bytes charged by the decode in progress. */
  private used = 0;
  /** Bytes of external data read (they raise the default budget like the file's own bytes). */
  private externalBytes = 0;
  /** The inputs' bytes of the plan being made or run (see runLimit). */
  inputBytes = 0;

  /**
   * @param fileBytes the model file's size
   * @param explicit the caller's maxBytes, or undefined for the default
   */
  constructor(readonly fileBytes: number, readonly explicit: number | undefined) {
    if (explicit !== undefined && !(Number.isSafeInteger(explicit) && explicit > 0)) {
      throw new TypeError(`loadOnnx: maxBytes must be a positive integer, got ${String(explicit)}`);
    }
  }

  /** The load budget in bytes. */
  get limit(): number {
    return this.explicit ?? Math.max(MIN_BUDGET_BYTES, FILE_MULTIPLE * (this.fileBytes + this.externalBytes));
  }

  private describeLimit(): string {
    return this.explicit !== undefined ? `maxBytes ${this.explicit}` :
      `the default budget of ${MiB(this.limit)} (max(64 MiB, ${FILE_MULTIPLE} x the ${this.fileBytes + this.externalBytes}-byte file))`;
  }

  /** Starts a decode (each specialisation of the model decodes the file again). */
  reset(): void {
    this.used = 0;
    this.externalBytes = 0;
  }

  /** External data of this many bytes is about to be read (raises the default budget). */
  addExternal(bytes: number): void {
    this.externalBytes += bytes;
  }

  /** Charges a decoded tensor; fails naming it when the budget is exceeded. */
  charge(bytes: number, what: string): void {
    this.used += bytes;
    if (this.used > this.limit) {
      fail(`${what} needs ${bytes} bytes, which takes the decoded tensors to ${this.used} bytes, over ${this.describeLimit()}; pass a larger maxBytes to loadOnnx if the file is trusted`);
    }
  }

  /** The budget of one plan or op output: maxBytes (or the default) plus INPUT_MULTIPLE x the inputs. */
  runLimit(): number {
    return this.limit + INPUT_MULTIPLE * this.inputBytes;
  }

  /**
   * Throws an Error when bytes (what a plan or op asks for) exceed the run budget. (Not a
   * 'loadOnnx:' error: it comes from run, whose callers prefix it with the node.)
   */
  checkRun(bytes: number, what: string): void {
    const lim = this.runLimit();
    if (bytes > lim) {
      throw new Error(`${what} needs ${bytes} bytes (${MiB(bytes)}), over the memory budget of ${lim} bytes (${this.describeLimit()} + ${INPUT_MULTIPLE} x the ${this.inputBytes} input bytes); pass a larger maxBytes to loadOnnx if the file is trusted`);
    }
  }
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

function intsAttr(node: NodeProto, name: string): number[] | null {
  const a = node.attribute.find((x) => x.name === name);
  return a && a.ints.length ? a.ints : null;
}

function floatsAttr(node: NodeProto, name: string): number[] | null {
  const a = node.attribute.find((x) => x.name === name);
  return a && a.floats.length ? a.floats : null;
}

const values = (t: Tensor | null | undefined): number[] | null => (t ? Array.from(t.data) : null);

/**
 * An upper bound of the elements the op's output will have, computed from its inputs before it
 * runs, for the ops whose output size is set by values (not by the inputs' sizes); null for others
 * or when the values are not at hand (the op's own checks then apply).
 */
export function outputBound(node: NodeProto, opset: number, args: readonly (Tensor | null)[]): number | null {
  const x = args[0];
  switch (node.opType) {
    case 'ConstantOfShape': {
      const s = values(x);
      return s ? prod(s.map((d) => Math.max(d, 0))) : null;
    }
    case 'Expand': {
      const s = values(args[1]);
      if (!x || !s) return null;
      const r = Math.max(x.rank, s.length);
      const xs = [...new Array<number>(r - x.rank).fill(1), ...x.shape];
      const ss = [...new Array<number>(r - s.length).fill(1), ...s];
      return prod(xs.map((d, i) => Math.max(d, Math.abs(ss[i]))));
    }
    case 'Tile': {
      const rep = values(args[1]);
      if (!x || !rep) return null;
      return prod(x.shape.map((d, i) => d * Math.max(Math.abs(rep[i] ?? 1), 1)));
    }
    case 'Pad': {
      const pads = opset >= 11 ? values(args[1]) : intsAttr(node, 'pads');
      if (!x || !pads) return null;
      const r = x.rank;
      return prod(x.shape.map((d, i) => d + Math.max(pads[i] ?? 0, 0) + Math.max(pads[i + r] ?? 0, 0)));
    }
    case 'Resize':
    case 'Upsample': {
      if (!x) return null;
      // Resize: (x, roi, scales, sizes) from opset 11, (x, scales) in opset 10; Upsample: (x, scales)
      // from opset 9, a scales attribute before.
      const sizes = node.opType === 'Resize' && opset >= 11 ? values(args[3]) : null;
      if (sizes && sizes.length) {
        if (sizes.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new RangeError(`sizes [${sizes.join(',')}] must be non-negative integers`);
        return prod(sizes);
      }
      const scales = node.opType === 'Resize' ? values(args[opset >= 11 ? 2 : 1]) :
        opset >= 9 ? values(args[1]) : floatsAttr(node, 'scales');
      if (!scales || scales.length === 0) return null;
      return prod(x.shape.map((d, i) => Math.ceil(d * Math.max(Math.abs(scales[i] ?? 1), 1))));
    }
    case 'Conv':
    case 'ConvTranspose':
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      // Pads (and ConvTranspose's strides and output_shape) set the output size: per spatial
      // axis floor((x + pads - dilated kernel) / stride) + 1 (+ 1 more with ceil_mode), ceil(x /
      // stride) with SAME auto_pad, and stride (x - 1) + output_padding +
      // dilated kernel for ConvTranspose.
      const w = args[1];
      const conv = node.opType === 'Conv' || node.opType === 'ConvTranspose';
      if (!x || x.rank < 3 || (conv && (!w || w.rank !== x.rank))) return null;
      const sp = x.rank - 2;
      const k = intsAttr(node, 'kernel_shape') ?? (w && conv ? w.shape.slice(2) : null);
      if (!k) return null;
      const at = (xs: number[] | null, i: number, def: number): number => (xs && Number.isFinite(xs[i]) ? xs[i] : def);
      const strides = intsAttr(node, 'strides'), dil = intsAttr(node, 'dilations'), pads = intsAttr(node, 'pads');
      const group = node.attribute.find((a) => a.name === 'group')?.i ?? 1;
      const channels = node.opType === 'Conv' ? w!.shape[0] : node.opType === 'ConvTranspose' ? w!.shape[1] * Math.max(group, 1) : x.shape[1];
      const outShape = node.opType === 'ConvTranspose' ? intsAttr(node, 'output_shape') : null;
      const outPad = intsAttr(node, 'output_padding');
      const autoPad = node.attribute.find((a) => a.name === 'auto_pad')?.s;
      const ceil = node.attribute.find((a) => a.name === 'ceil_mode')?.i ? 1 : 0;
      const same = autoPad !== undefined && autoPad.length > 4 && String.fromCharCode(...autoPad.subarray(0, 4)) === 'SAME';
      let n = x.shape[0] * channels;
      for (let i = 0; i < sp; i++) {
        const xi = x.shape[2 + i], si = Math.max(at(strides, i, 1), 1), di = Math.max(at(dil, i, 1), 1), ki = Math.max(at(k, i, 1), 1);
        const pb = at(pads, i, 0), pe = at(pads, i + sp, 0);
        let o: number;
        if (node.opType !== 'ConvTranspose') o = same ? Math.ceil(xi / si) : Math.floor((xi + pb + pe - (ki - 1) * di - 1) / si) + 1 + ceil;
        else if (outShape) o = at(outShape, outShape.length - sp + i, 0);
        else o = si * Math.max(xi - 1, 0) + Math.max(at(outPad, i, 0), 0) + (ki - 1) * di + 1 + Math.max(-pb, 0) + Math.max(-pe, 0);
        n *= Math.max(o, 0);
      }
      return n;
    }
    case 'Range': {
      const [s, l, d] = [values(args[0]), values(args[1]), values(args[2])];
      if (!s || !l || !d || s.length !== 1 || l.length !== 1 || d.length !== 1 || d[0] === 0) return null;
      return Math.max(Math.ceil((l[0] - s[0]) / d[0]), 0);
    }
    default:
      return null;
  }
}

/**
 * Window positions a pool may visit (output elements x kernel volume) before it is refused. The
 * pool kernels visit every position of every window, padding included, so a kernel_shape of 2^31
 * with SAME padding (a small output) would run for hours; real networks stay below 2^30.
 */
export const MAX_POOL_WORK = 2 ** 36;

/** The pool's work (output elements x kernel volume), or null when it is not a pool. */
export function poolWork(node: NodeProto, outElements: number): number | null {
  if (node.opType !== 'MaxPool' && node.opType !== 'AveragePool' && node.opType !== 'LpPool') return null;
  const k = intsAttr(node, 'kernel_shape');
  return k ? outElements * prod(k.map((d) => Math.max(d, 1))) : null;
}

/**
 * The node's exact kernel with the budget checked: before it runs for the ops outputBound knows,
 * and on what it returns for every op (an op that amplified its inputs stops the chain there).
 */
export function guardExact(gn: GraphNode, node: NodeProto, opset: number, budget: MemoryBudget): GraphNode {
  const run = gn.exact;
  gn.exact = (args) => {
    const bound = outputBound(node, opset, args);
    if (bound !== null) {
      if (!Number.isFinite(bound)) throw new Error(`its output size is not finite (the inputs give ${bound} elements)`);
      budget.checkRun(4 * bound, `its output (${bound} elements)`);
      const work = poolWork(node, bound);
      if (work !== null && work > MAX_POOL_WORK) {
        throw new Error(`its ${bound} output elements times kernel_shape [${intsAttr(node, 'kernel_shape')!.join(',')}] are ${work} window positions, over the limit of 2^36 (MAX_POOL_WORK)`);
      }
    }
    const outs = run(args);
    let bytes = 0;
    for (const t of outs) if (t) bytes += 4 * t.size;
    if (bytes > budget.runLimit()) {
      for (const t of outs) if (t && !t.persistent && !args.includes(t)) t.dispose();
      budget.checkRun(bytes, `its outputs (shapes ${outs.map((t) => (t ? `[${t.shape.join(',')}]` : 'none')).join(', ')})`);
    }
    return outs;
  };
  return gn;
}

/**
 * N-dimensional reference kernels for the ONNX ops the 2-D functional ops do not cover: 3-D (and
 * any rank) convolution, transposed convolution and pooling, general reductions, Resize, LRN,
 * instance and layer normalisation over any axis, Hardmax, broadcasting, Tile, Split. Plain loops
 * on Float32Arrays (accumulating in float64), computed on the JS thread; each is the exact kernel
 * of a graph node the compiler does not plan. Shapes are row-major [N, C, spatial...] where it
 * matters. Errors are RangeErrors naming `where` (the ONNX node) and the shapes.
 */
import { Tensor, assertNotCapturing } from '../tensor';
import { shapeStr } from '../errors';
import { checkPoolWindow, kMaxPoolWindow, outputSizeRaw } from './validate';

const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);

/** Row-major strides. */
export function strides(s: readonly number[]): number[] {
  const st = new Array<number>(s.length);
  for (let i = s.length - 1, m = 1; i >= 0; i--) { st[i] = m; m *= s[i]; }
  return st;
}

/** Calls fn(index vector, flat offset) for every index of shape s, in row-major order. */
function forEachIndex(s: readonly number[], fn: (idx: number[], flat: number) => void): void {
  const n = prod(s), r = s.length, idx = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o++) {
    fn(idx, o);
    for (let d = r - 1; d >= 0; d--) { if (++idx[d] < s[d]) break; idx[d] = 0; }
  }
}

// ---- broadcasting --------------------------------------------------------------------------------

/** numpy's multidirectional broadcast of two shapes. */
export function broadcastShapes(where: string, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const pa = [...new Array<number>(r - a.length).fill(1), ...a], pb = [...new Array<number>(r - b.length).fill(1), ...b];
  return pa.map((d, i) => {
    if (d === pb[i] || pb[i] === 1) return d;
    if (d === 1) return pb[i];
    throw new RangeError(`${where}: shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast`);
  });
}

/** Element strides of `s` read as shape `out` (right-aligned; 0 along broadcast axes). */
function broadcastStrides(s: readonly number[], out: readonly number[]): number[] {
  const r = out.length, p = [...new Array<number>(r - s.length).fill(1), ...s];
  const st = strides(p);
  return p.map((d, i) => (d === 1 && out[i] !== 1 ? 0 : st[i]));
}

/** fn applied elementwise over numpy-broadcast operands. */
export function broadcastMap(where: string, a: Tensor, b: Tensor, fn: (x: number, y: number) => number): Tensor {
  const os = broadcastShapes(where, a.shape, b.shape);
  assertNotCapturing(`${where} (computed on the JS thread)`);
  const sa = broadcastStrides(a.shape, os), sb = broadcastStrides(b.shape, os);
  const ad = a.data, bd = b.data, out = new Float32Array(prod(os));
  forEachIndex(os, (idx, o) => {
    let ia = 0, ib = 0;
    for (let i = 0; i < idx.length; i++) { ia += idx[i] * sa[i]; ib += idx[i] * sb[i]; }
    out[o] = fn(ad[ia], bd[ib]);
  });
  return Tensor.wrap(out, os);
}

/** x broadcast to `shape` (numpy rules both ways, as ONNX Expand). */
export function expandTo(where: string, x: Tensor, shape: readonly number[]): Tensor {
  const os = broadcastShapes(where, x.shape, shape);
  assertNotCapturing(`${where} (computed on the JS thread)`);
  const sx = broadcastStrides(x.shape, os), xd = x.data, out = new Float32Array(prod(os));
  forEachIndex(os, (idx, o) => {
    let ix = 0;
    for (let i = 0; i < idx.length; i++) ix += idx[i] * sx[i];
    out[o] = xd[ix];
  });
  return Tensor.wrap(out, os);
}

/** ONNX Tile: x repeated repeats[i] times along axis i. */
export function tile(where: string, x: Tensor, repeats: readonly number[]): Tensor {
  const s = x.shape;
  if (repeats.length !== s.length) throw new RangeError(`${where}: repeats has ${repeats.length} values for an input of rank ${s.length} (${shapeStr(s)})`);
  if (repeats.some((v) => v < 0)) throw new RangeError(`${where}: negative repeats [${repeats.join(',')}]`);
  const os = s.map((d, i) => d * repeats[i]);
  assertNotCapturing(`${where} (computed on the JS thread)`);
  const st = strides(s), xd = x.data, out = new Float32Array(prod(os));
  forEachIndex(os, (idx, o) => {
    let ix = 0;
    for (let i = 0; i < idx.length; i++) ix += (idx[i] % s[i]) * st[i];
    out[o] = xd[ix];
  });
  return Tensor.wrap(out, os);
}

/** Pieces of `sizes` along `axis` (sizes sum to the axis). */
export function split(where: string, x: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
  const s = x.shape;
  const total = sizes.reduce((a, b) => a + b, 0);
  if (sizes.some((v) => v < 0) || total !== s[axis]) {
    throw new RangeError(`${where}: split sizes [${sizes.join(',')}] do not add up to axis ${axis} of ${shapeStr(s)}`);
  }
  assertNotCapturing(`${where} (computed on the JS thread)`);
  const outer = prod(s.slice(0, axis)), inner = prod(s.slice(axis + 1)), xd = x.data;
  let at = 0;
  return sizes.map((n) => {
    const out = new Float32Array(outer * n * inner);
    for (let o = 0; o < outer; o++) out.set(xd.subarray((o * s[axis] + at) * inner, (o * s[axis] + at + n) * inner), o * n * inner);
    at += n;
    return Tensor.wrap(out, [...s.slice(0, axis), n, ...s.slice(axis + 1)]);
  });
}

// ---- convolution and pooling ---------------------------------------------------------------------

/** ONNX auto_pad: [begin..., end...] for spatial sizes `size` (NOTSET keeps `pads`). */
export function autoPads(mode: string, pads: readonly number[], size: readonly number[], k: readonly number[],
  s: readonly number[], d: readonly number[]): number[] {
  const n = size.length;
  if (mode === 'NOTSET') return pads.slice();
  if (mode === 'VALID') return new Array<number>(2 * n).fill(0);
  const out = new Array<number>(2 * n).fill(0);
  for (let i = 0; i < n; i++) {
    const total = Math.max(0, (Math.ceil(size[i] / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - size[i]);
    const small = total >> 1;
    out[i] = mode === 'SAME_UPPER' ? small : total - small;
    out[i + n] = total - out[i];
  }
  return out;
}

export interface ConvNdSpec {
  strides: number[]; dilations: number[]; group: number;
  /** [begin..., end...] after auto_pad. */
  pads: number[];
}

/** ONNX Conv over any number of spatial axes: x [N, C, ...S], w [M, C/group, ...K], bias [M]. */
export function convNd(where: string, x: Tensor, w: Tensor, b: Tensor | null, o: ConvNdSpec): Tensor {
  const nsp = x.rank - 2;
  if (nsp < 1 || w.rank !== x.rank) throw new RangeError(`${where}: input ${shapeStr(x.shape)} and weight ${shapeStr(w.shape)} must have the same rank >= 3`);
  const [N, C] = x.shape, [M, Cg] = w.shape, S = x.shape.slice(2), K = w.shape.slice(2);
  const g = o.group;
  if (Cg * g !== C || M % g !== 0) throw new RangeError(`${where}: input ${shapeStr(x.shape)} does not match the weight ${shapeStr(w.shape)} with group ${g}`);
  if (b && b.size !== M) throw new RangeError(`${where}: bias ${shapeStr(b.shape)} does not match ${M} output channels`);
  const O = S.map((d, i) => outputSizeRaw(d, K[i], o.strides[i], o.pads[i], o.pads[i + nsp], o.dilations[i], false));
  if (O.some((v) => v < 1)) throw new RangeError(`${where}: output would be empty for input ${shapeStr(x.shape)} and weight ${shapeStr(w.shape)}`);
  assertNotCapturing(`${where} (computed on the JS thread)`);
  const xd = x.data, wd = w.data, bd = b?.data ?? null;
  const sS = strides(S), nS = prod(S), nK = prod(K), nO = prod(O), Mg = M / g;
  const out = new Float32Array(N * M * nO);
  // Kernel taps as spatial offsets (per axis), precomputed.
  const taps: number[][] = [];
  forEachIndex(K, (idx) => taps.push(idx.slice()));
  const pos = new Array<number>(nsp);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const grp = Math.floor(m / Mg);
      forEachIndex(O, (oi, of) => {
        let acc = bd ? bd[m] : 0;
        for (let c = 0; c < Cg; c++) {
          const xb = (n * C + grp * Cg + c) * nS, wb = (m * Cg + c) * nK;
          for (let t = 0; t < nK; t++) {
            const tap = taps[t];
            let inside = true, at = 0;
            for (let i = 0; i < nsp; i++) {
              pos[i] = oi[i] * o.strides[i] - o.pads[i] + tap[i] * o.dilations[i];
              if (pos[i] < 0 || pos[i] >= S[i]) { inside = false; break; }
              at += pos[i] * sS[i];
            }
            if (inside) acc += xd[xb + at] * wd[wb + t];
          }
        }
        out[(n * M + m) * nO + of] = acc;
      });
    }
  }
  return Tensor.wrap(out, [N, M, ...O]);
}

export interface ConvTransposeSpec {
  strides: number[]; dilations: number[]; group: number;
  pads: number[]; autoPad: string; outputPadding: number[];
  /** Spatial output size requested (output_shape), or null. */
  outputShape: number[] | null;
}

/**
 * ONNX ConvTranspose over any number of spatial axes: x [N, C, ...S], w [C, M/group, ...K]. Output
 * position of input i and tap k is i * stride + k * dilation - pad_begin; positions outside the
 * output are dropped.
 */
/**
 * A transposed convolution's shape checks and geometry: output channels M, per-group sizes, the
 * output's spatial size O and the padding `begin` subtracted from each output position.
 */
export function convTransposeGeometry(where: string, x: Tensor, w: Tensor, b: Tensor | null, o: ConvTransposeSpec):
  { M: number; Mg: number; Cg: number; O: number[]; begin: number[] } {
  const nsp = x.rank - 2;
  if (nsp < 1 || w.rank !== x.rank) throw new RangeError(`${where}: input ${shapeStr(x.shape)} and weight ${shapeStr(w.shape)} must have the same rank >= 3`);
  const C = x.shape[1], S = x.shape.slice(2), K = w.shape.slice(2);
  const g = o.group;
  if (w.shape[0] !== C || C % g !== 0) throw new RangeError(`${where}: input ${shapeStr(x.shape)} does not match the weight ${shapeStr(w.shape)} with group ${g}`);
  const Mg = w.shape[1], M = Mg * g, Cg = C / g;
  if (b && b.size !== M) throw new RangeError(`${where}: bias ${shapeStr(b.shape)} does not match ${M} output channels`);
  const full = S.map((d, i) => o.strides[i] * (d - 1) + o.outputPadding[i] + (K[i] - 1) * o.dilations[i] + 1);
  let begin: number[], O: number[];
  if (o.outputShape || o.autoPad === 'SAME_UPPER' || o.autoPad === 'SAME_LOWER') {
    O = o.outputShape ?? S.map((d, i) => d * o.strides[i]);
    if (O.length !== nsp) throw new RangeError(`${where}: output_shape [${O.join(',')}] has ${O.length} values for ${nsp} spatial axes`);
    begin = O.map((v, i) => {
      const total = Math.max(0, full[i] - v);
      return o.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
    });
  } else {
    const p = o.autoPad === 'VALID' ? new Array<number>(2 * nsp).fill(0) : o.pads;
    begin = p.slice(0, nsp);
    O = full.map((v, i) => v - p[i] - p[i + nsp]);
  }
  if (O.some((v) => v < 1)) throw new RangeError(`${where}: output would be empty for input ${shapeStr(x.shape)} and weight ${shapeStr(w.shape)}`);
  return { M, Mg, Cg, O, begin };
}

/**
 * The transposed convolution as a stride-1 convolution (for the native 2-D kernel): x with
 * stride-1 zeros between its elements, padded by d(K-1) - begin in front (cropped where that is
 * negative) and as much behind as the output size needs, convolved with dilation d by the weight
 * flipped along every spatial axis and transposed per group to [M, C/group, K...]. Returns the
 * prepared input, the weight and the output's spatial size; the caller runs conv(u, w', groups).
 */
export function convTransposeAsConv(where: string, x: Tensor, w: Tensor, b: Tensor | null, o: ConvTransposeSpec): { u: Tensor; w: Tensor; O: number[] } {
  const { M, Mg, Cg, O, begin } = convTransposeGeometry(where, x, w, b, o);
  const [N, C] = x.shape, S = x.shape.slice(2), K = w.shape.slice(2), nsp = S.length, g = o.group;
  assertNotCapturing(`${where} (computed on the JS thread)`);
  // u's extent per axis: conv output O needs (O - 1) + d(K - 1) + 1 input positions.
  const U = O.map((v, i) => v + o.dilations[i] * (K[i] - 1));
  const front = begin.map((p, i) => o.dilations[i] * (K[i] - 1) - p);
  const u = new Float32Array(N * C * prod(U)), xd = x.data, sU = strides(U), nS = prod(S), nU = prod(U);
  forEachIndex(S, (si, sf) => {
    let at = 0;
    for (let i = 0; i < nsp; i++) {
      const p = si[i] * o.strides[i] + front[i];
      if (p < 0 || p >= U[i]) return;
      at += p * sU[i];
    }
    for (let nc = 0; nc < N * C; nc++) u[nc * nU + at] = xd[nc * nS + sf];
  });
  const nK = prod(K), wd = w.data, wt = new Float32Array(M * Cg * nK);
  for (let gi = 0; gi < g; gi++) for (let c = 0; c < Cg; c++) for (let m = 0; m < Mg; m++) {
    const src = ((gi * Cg + c) * Mg + m) * nK, dst = ((gi * Mg + m) * Cg + c) * nK;
    for (let t = 0; t < nK; t++) wt[dst + t] = wd[src + nK - 1 - t];
  }
  return { u: Tensor.wrap(u, [N, C, ...U]), w: Tensor.wrap(wt, [M, Cg, ...K]), O };
}

export function convTransposeNd(where: string, x: Tensor, w: Tensor, b: Tensor | null, o: ConvTransposeSpec): Tensor {
  const { M, Mg, Cg, O, begin } = convTransposeGeometry(where, x, w, b, o);
  const [N, C] = x.shape, S = x.shape.slice(2), K = w.shape.slice(2), nsp = S.length;
  assertNotCapturing(`${where} (computed on the JS thread)`);
  const xd = x.data, wd = w.data, nS = prod(S), nK = prod(K), nO = prod(O), sO = strides(O);
  const out = new Float64Array(N * M * nO);
  const taps: number[][] = [];
  forEachIndex(K, (idx) => taps.push(idx.slice()));
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const grp = Math.floor(c / Cg);
      forEachIndex(S, (si, sf) => {
        const v = xd[(n * C + c) * nS + sf];
        if (v === 0) return;
        for (let t = 0; t < nK; t++) {
          let at = 0, inside = true;
          for (let i = 0; i < nsp; i++) {
            const p = si[i] * o.strides[i] + taps[t][i] * o.dilations[i] - begin[i];
            if (p < 0 || p >= O[i]) { inside = false; break; }
            at += p * sO[i];
          }
          if (!inside) continue;
          for (let mg = 0; mg < Mg; mg++) {
            out[(n * M + grp * Mg + mg) * nO + at] += v * wd[(c * Mg + mg) * nK + t];
          }
        }
      });
    }
  }
  const res = new Float32Array(out.length);
  for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) {
    const bias = b ? b.data[m] : 0, base = (n * M + m) * nO;
    for (let i = 0; i < nO; i++) res[base + i] = out[base + i] + bias;
  }
  return Tensor.wrap(res, [N, M, ...O]);
}

export interface PoolNdSpec {
  k: number[]; s: number[]; d: number[];
  /** [begin..., end...] after auto_pad. */
  pads: number[];
  ceil: boolean; includePad: boolean;
  /** Max pooling's Indices output: 0 row-major, 1 column-major (2-D). */
  storageOrder: number;
}

/**
 * Max or average pooling over any number of spatial axes (PyTorch's window rule, ONNX's output
 * size). With `indices`, also the flat index (over the whole input) of each maximum.
 */
export function poolNd(where: string, x: Tensor, max: boolean, o: PoolNdSpec, indices = false): Tensor[] {
  const nsp = x.rank - 2;
  if (nsp < 1) throw new RangeError(`${where}: input must be at least 3-D [N, C, ...], got shape ${shapeStr(x.shape)}`);
  const [N, C] = x.shape, S = x.shape.slice(2);
  if (o.k.length !== nsp) throw new RangeError(`${where}: kernel_shape has ${o.k.length} values for ${nsp} spatial axes (${shapeStr(x.shape)})`);
  checkPoolWindow(where, o.k, o.d, o.pads);
  // The reference enumerates the window's taps.
  if (prod(o.k) > kMaxPoolWindow) throw new RangeError(`${where}: kernel [${o.k.join(',')}] has more than ${kMaxPoolWindow} taps`);
  const O = S.map((v, i) => outputSizeRaw(v, o.k[i], o.s[i], o.pads[i], o.pads[i + nsp], o.d[i], o.ceil));
  if (O.some((v) => v < 1)) throw new RangeError(`${where}: output would be empty for input ${shapeStr(x.shape)} and kernel [${o.k.join(',')}]`);
  assertNotCapturing(`${where} (computed on the JS thread)`);
  const xd = x.data, nS = prod(S), nO = prod(O), sS = strides(S);
  const out = new Float32Array(N * C * nO), idxOut = indices ? new Float32Array(N * C * nO) : null;
  const taps: number[][] = [];
  forEachIndex(o.k, (idx) => taps.push(idx.slice()));
  const pos = new Array<number>(nsp);
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * nS;
    forEachIndex(O, (oi, of) => {
      let acc = max ? -Infinity : 0, cnt = 0, padded = 0, arg = -1;
      for (const tap of taps) {
        let inside = true, inPad = true, at = 0;
        for (let i = 0; i < nsp; i++) {
          pos[i] = oi[i] * o.s[i] - o.pads[i] + tap[i] * o.d[i];
          if (pos[i] >= S[i] + o.pads[i + nsp]) inPad = false;
          if (pos[i] < 0 || pos[i] >= S[i]) inside = false;
          at += pos[i] * sS[i];
        }
        if (inPad) padded++;
        if (!inside) continue;
        const v = xd[base + at];
        if (max) {
          if (arg < 0 || v > acc || (Number.isNaN(v) && !Number.isNaN(acc))) { acc = v; arg = at; }
        } else acc += v;
        cnt++;
      }
      out[nc * nO + of] = max ? acc : acc / (o.includePad ? padded : Math.max(cnt, 1));
      if (idxOut) {
        let flat = arg;
        if (o.storageOrder === 1 && nsp === 2) flat = (arg % S[1]) * S[0] + Math.floor(arg / S[1]);
        idxOut[nc * nO + of] = base + flat;
      }
    });
  }
  const shape = [N, C, ...O];
  return idxOut ? [Tensor.wrap(out, shape), Tensor.wrap(idxOut, shape)] : [Tensor.wrap(out, shape)];
}

// ---- reductions ----------------------------------------------------------------------------------

export type ReduceKind = 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'l1' | 'l2' | 'sumSquare' | 'logSum' | 'logSumExp';

/** Reduction over the axes where keep[i] is false (float64 accumulation). */
export function reduce(where: string, x: Tensor, kind: ReduceKind, keep: readonly boolean[], keepDims: boolean): Tensor {
  const s = x.shape, r = s.length;
  const outShape = s.map((d, i) => (keep[i] ? d : 1));
  const os = strides(outShape).map((st, i) => (keep[i] ? st : 0));
  const n = prod(outShape), count = prod(s.filter((_, i) => !keep[i]));
  assertNotCapturing(`${where} (computed on the JS thread)`);
  const init = kind === 'max' ? -Infinity : kind === 'min' ? Infinity : kind === 'prod' ? 1 : 0;
  const acc = new Float64Array(n).fill(init), xd = x.data, idx = new Array<number>(r).fill(0);
  // logSumExp subtracts the maximum first, so exp never overflows.
  const mx = kind === 'logSumExp' ? reduce(where, x, 'max', keep, true).data : null;
  let o = 0;
  for (let i = 0; i < xd.length; i++) {
    const v = xd[i];
    switch (kind) {
      case 'sum': case 'mean': case 'logSum': acc[o] += v; break;
      case 'max': if (v > acc[o] || Number.isNaN(v)) acc[o] = v; break;
      case 'min': if (v < acc[o] || Number.isNaN(v)) acc[o] = v; break;
      case 'prod': acc[o] *= v; break;
      case 'l1': acc[o] += Math.abs(v); break;
      case 'l2': case 'sumSquare': acc[o] += v * v; break;
      case 'logSumExp': acc[o] += Math.exp(v - mx![o]); break;
    }
    for (let d = r - 1; d >= 0; d--) {
      idx[d]++; o += os[d];
      if (idx[d] < s[d]) break;
      o -= os[d] * s[d]; idx[d] = 0;
    }
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = acc[i];
    out[i] = kind === 'mean' ? (count > 0 ? a / count : NaN) : kind === 'l2' ? Math.sqrt(a) : kind === 'logSum' ? Math.log(a)
      : kind === 'logSumExp' ? Math.log(a) + mx![i] : a;
  }
  return Tensor.wrap(out, keepDims ? outShape : s.filter((_, i) => keep[i]));
}

// ---- normalisation -------------------------------------------------------------------------------

/**
 * x normalised over the axes from `axis` on (mean, biased variance, eps), times scale plus bias
 * (both broadcast to those axes). Also the Mean and InvStdDev, shaped x.shape[:axis] + 1s.
 */
export function layerNormNd(where: string, x: Tensor, axis: number, scale: Tensor | null, bias: Tensor | null, eps: number): Tensor[] {
  const s = x.shape, outer = prod(s.slice(0, axis)), inner = prod(s.slice(axis));
  const tail = s.slice(axis);
  const along = (t: Tensor | null, what: string): Float32Array | null => {
    if (!t) return null;
    if (t.size === inner) return t.data;
    return expandTo(`${where} ${what}`, t, tail).data;
  };
  const sc = along(scale, 'scale'), bi = along(bias, 'bias');
  if ((sc && sc.length !== inner) || (bi && bi.length !== inner)) {
    throw new RangeError(`${where}: scale ${scale ? shapeStr(scale.shape) : '-'} / bias ${bias ? shapeStr(bias.shape) : '-'} do not broadcast to ${shapeStr(tail)}`);
  }
  assertNotCapturing(`${where} (computed on the JS thread)`);
  const xd = x.data, out = new Float32Array(x.size), mean = new Float32Array(outer), inv = new Float32Array(outer);
  for (let o = 0; o < outer; o++) {
    const b0 = o * inner;
    let m = 0;
    for (let i = 0; i < inner; i++) m += xd[b0 + i];
    m /= inner;
    let v = 0;
    for (let i = 0; i < inner; i++) { const d = xd[b0 + i] - m; v += d * d; }
    const r = 1 / Math.sqrt(v / inner + eps);
    mean[o] = m; inv[o] = r;
    for (let i = 0; i < inner; i++) {
      let y = (xd[b0 + i] - m) * r;
      if (sc) y *= sc[i];
      if (bi) y += bi[i];
      out[b0 + i] = y;
    }
  }
  const stat = [...s.slice(0, axis), ...s.slice(axis).map(() => 1)];
  return [Tensor.wrap(out, s), Tensor.wrap(mean, stat), Tensor.wrap(inv, stat)];
}

/** InstanceNormalization: x [N, C, ...] normalised per (n, c) over the spatial axes, times scale[c] plus bias[c]. */
export function instanceNormNd(where: string, x: Tensor, scale: Tensor, bias: Tensor, eps: number): Tensor {
  if (x.rank < 3) throw new RangeError(`${where}: input must be at least 3-D [N, C, ...], got shape ${shapeStr(x.shape)}`);
  const [N, C] = x.shape, inner = prod(x.shape.slice(2));
  if (scale.size !== C || bias.size !== C) throw new RangeError(`${where}: scale ${shapeStr(scale.shape)} and bias ${shapeStr(bias.shape)} must have ${C} values`);
  const y = layerNormNd(where, x.reshape([N * C, inner]), 1, null, null, eps)[0];
  const yd = y.data, sd = scale.data, bd = bias.data;
  for (let nc = 0; nc < N * C; nc++) {
    const c = nc % C;
    for (let i = 0; i < inner; i++) yd[nc * inner + i] = yd[nc * inner + i] * sd[c] + bd[c];
  }
  return Tensor.wrap(yd, x.shape);
}

/** LRN across channels: x / (bias + alpha / size * sum of squares over the size-window)^beta. */
export function lrn(where: string, x: Tensor, size: number, alpha: number, beta: number, bias: number): Tensor {
  if (x.rank < 2) throw new RangeError(`${where}: input must be at least 2-D [N, C, ...], got shape ${shapeStr(x.shape)}`);
  const [N, C] = x.shape, inner = prod(x.shape.slice(2));
  assertNotCapturing(`${where} (computed on the JS thread)`);
  const xd = x.data, out = new Float32Array(x.size);
  const lo = Math.floor((size - 1) / 2), hi = Math.ceil((size - 1) / 2);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < inner; i++) {
    let sq = 0;
    for (let j = Math.max(0, c - lo); j <= Math.min(C - 1, c + hi); j++) { const v = xd[(n * C + j) * inner + i]; sq += v * v; }
    const at = (n * C + c) * inner + i;
    out[at] = xd[at] / Math.pow(bias + (alpha / size) * sq, beta);
  }
  return Tensor.wrap(out, x.shape);
}

/** One-hot of the first maximum over [outer, n, inner]'s middle axis. */
export function hardmax(x: Tensor, outer: number, n: number, inner: number): Tensor {
  assertNotCapturing('Hardmax (computed on the JS thread)');
  const xd = x.data, out = new Float32Array(x.size);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    let best = 0;
    for (let j = 1; j < n; j++) if (xd[(o * n + j) * inner + i] > xd[(o * n + best) * inner + i]) best = j;
    if (n > 0) out[(o * n + best) * inner + i] = 1;
  }
  return Tensor.wrap(out, x.shape);
}

// ---- resize ------------------------------------------------------------------------------------

export type ResizeMode = 'nearest' | 'linear' | 'cubic';
export type CoordMode = 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_half_pixel_for_nn' | 'tf_crop_and_resize';
/** 'simple': Resize-10's rule (as onnxruntime and ONNX's opset-10 tests): ceil when the axis shrinks, floor otherwise. */
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil' | 'simple';

export interface ResizeSpec {
  mode: ResizeMode; coord: CoordMode; nearest: NearestMode;
  cubicA: number; excludeOutside: boolean; extrapolation: number;
}

/**
 * ONNX Resize (and Upsample) on any rank, as the ONNX reference computes it: per axis, the output
 * coordinate mapped back (coordinate_transformation_mode, using the float scale), taps around it
 * (nearest: 1, linear: 2, cubic: 4; edge-clamped unless exclude_outside), separable over the axes.
 * `scales` per axis; `out` the output sizes; `roi` [starts..., ends...] for tf_crop_and_resize.
 */
export function resize(where: string, x: Tensor, scales: readonly number[], out: readonly number[], roi: readonly number[] | null,
  o: ResizeSpec): Tensor {
  const s = x.shape, r = s.length;
  if (scales.length !== r || out.length !== r) throw new RangeError(`${where}: ${scales.length} scales for an input of rank ${r} (${shapeStr(s)})`);
  assertNotCapturing(`${where} (computed on the JS thread)`);
  let cur = Float64Array.from(x.data), shape = s.slice();
  // Output elements whose coordinate fell outside the crop (tf_crop_and_resize) take the extrapolation value.
  const outside: boolean[][] = [];
  for (let ax = 0; ax < r; ax++) {
    const inW = s[ax], outW = out[ax], scale = scales[ax];
    const taps: { idx: number[]; w: number[] }[] = [];
    const off: boolean[] = [];
    for (let i = 0; i < outW; i++) {
      const t = axisTaps(i, inW, outW, scale, roi ? [roi[ax], roi[ax + r]] : null, o);
      taps.push(t ?? { idx: [0], w: [0] });
      off.push(t === null);
    }
    outside.push(off);
    if (inW === outW && scale === 1 && o.coord !== 'tf_crop_and_resize') continue;
    const outer = prod(shape.slice(0, ax)), inner = prod(shape.slice(ax + 1));
    const next = new Float64Array(outer * outW * inner);
    for (let a = 0; a < outer; a++) {
      for (let i = 0; i < outW; i++) {
        const { idx, w } = taps[i];
        const dst = (a * outW + i) * inner;
        for (let k = 0; k < idx.length; k++) {
          if (w[k] === 0) continue;
          const src = (a * inW + idx[k]) * inner;
          for (let j = 0; j < inner; j++) next[dst + j] += w[k] * cur[src + j];
        }
      }
    }
    cur = next;
    shape = [...shape.slice(0, ax), outW, ...shape.slice(ax + 1)];
  }
  const res = Float32Array.from(cur);
  if (o.coord === 'tf_crop_and_resize' && outside.some((a) => a.includes(true))) {
    forEachIndex(out, (idx, f) => { if (idx.some((v, ax) => outside[ax][v])) res[f] = o.extrapolation; });
  }
  return Tensor.wrap(res, out);
}

function cubicCoeffs(ratio: number, A: number): number[] {
  const c = (t: number): number => {
    const a = Math.abs(t);
    if (a <= 1) return ((A + 2) * a - (A + 3)) * a * a + 1;
    if (a < 2) return ((A * a - 5 * A) * a + 8 * A) * a - 4 * A;
    return 0;
  };
  return [c(ratio + 1), c(ratio), c(1 - ratio), c(2 - ratio)];
}

/** The input taps and weights of output index i along one axis; null outside a tf_crop_and_resize crop. */
function axisTaps(i: number, inW: number, outW: number, scale: number, roi: number[] | null,
  o: ResizeSpec): { idx: number[]; w: number[] } | null {
  const lenOut = scale * inW;  // the reference's (float) output length
  let xo: number;
  switch (o.coord) {
    case 'align_corners': xo = lenOut === 1 ? 0 : (i * (inW - 1)) / (lenOut - 1); break;
    case 'asymmetric': xo = i / scale; break;
    case 'tf_crop_and_resize': {
      const [a, b] = roi!;
      xo = outW === 1 ? ((b - a) * (inW - 1)) / 2 : (i * (b - a) * (inW - 1)) / (outW - 1);
      xo += a * (inW - 1);
      if (xo < 0 || xo > inW - 1) return null;
      break;
    }
    case 'pytorch_half_pixel': xo = outW === 1 ? -0.5 : (i + 0.5) / scale - 0.5; break;
    case 'half_pixel': xo = (i + 0.5) / scale - 0.5; break;
    case 'tf_half_pixel_for_nn': xo = (i + 0.5) / scale; break;
  }
  // ratio in (0, 1]: the tap left of xo is preferred when xo is a whole number.
  const whole = Number.isInteger(xo);
  const ratio = whole ? 1 : xo - Math.floor(xo);
  const left = whole ? xo - 1 : Math.floor(xo);
  const clamp = (k: number): number => Math.min(inW - 1, Math.max(0, k));
  if (o.mode === 'nearest') {
    let right: boolean;
    if (whole) right = true;
    else if (o.nearest === 'round_prefer_floor') right = ratio > 0.5;
    else if (o.nearest === 'round_prefer_ceil') right = ratio >= 0.5;
    else if (o.nearest === 'simple') right = scale < 1;
    else right = o.nearest === 'ceil';
    return { idx: [clamp(right ? left + 1 : left)], w: [1] };
  }
  let idx: number[], w: number[];
  if (o.mode === 'linear') { idx = [left, left + 1]; w = [1 - ratio, ratio]; } else { idx = [left - 1, left, left + 1, left + 2]; w = cubicCoeffs(ratio, o.cubicA); }
  if (o.excludeOutside) {
    w = w.map((v, k) => (idx[k] < 0 || idx[k] >= inW ? 0 : v));
    const sum = w.reduce((a, b) => a + b, 0);
    if (sum !== 0) w = w.map((v) => v / sum);
  }
  return { idx: idx.map(clamp), w };
}

/**
 * Independent float64 reference implementations of every op in API.md's `ops`, written straight
 * from the definitions (PyTorch semantics). Deliberately naive: explicit loops, no shared code with
 * lib/backend/js. Inputs are plain number arrays / typed arrays with an explicit shape; outputs are
 * Float64Array plus, for reductions, per-element error bounds the tests use to scale tolerances:
 *   absSum[i] = sum_k |a_k * b_k| (+ |bias|)   and   K = the reduction length.
 */
type Arr = ArrayLike<number>;

export interface Ref {
  out: Float64Array;
  shape: number[];
  /** Per output element: the sum of |terms| of its reduction (for tolerance scaling). */
  absSum?: Float64Array;
  /** Reduction length per output element. */
  K?: number;
}

// ---------------------------------------------------------------------------------------------
// output size

/** PyTorch's rule: floor((I + pb + pe - d(k-1) - 1)/s) + 1, or ceil with ceilMode minus one when
 * the last window would start at or after I + pb (entirely in the end padding). */
export function refOutSize(I: number, k: number, s: number, pb: number, pe: number, d: number, ceil: boolean): number {
  const num = I + pb + pe - d * (k - 1) - 1;
  if (num < 0) return 0;
  let o = ceil ? Math.ceil(num / s) + 1 : Math.floor(num / s) + 1;
  if (ceil && (o - 1) * s >= I + pb) o -= 1;
  return o;
}

// ---------------------------------------------------------------------------------------------
// conv2d

export interface RefConvOpts {
  stride: [number, number];
  /** [top, left, bottom, right] */
  pad: [number, number, number, number];
  dilation: [number, number];
  groups: number;
}

/** Resolves API-style conv options to explicit numbers (the test's own resolution, not lib's). */
export function resolveConvOpts(
  o: { stride?: number | number[]; padding?: number | number[] | string; dilation?: number | number[]; groups?: number } | undefined,
  kH: number, kW: number,
): RefConvOpts {
  const pair = (v: number | number[] | undefined, dflt: number): [number, number] =>
    v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  const stride = pair(o?.stride, 1);
  const dilation = pair(o?.dilation, 1);
  let pad: [number, number, number, number];
  const p = o?.padding;
  if (p === undefined || p === 'valid') pad = [0, 0, 0, 0];
  else if (p === 'same') {
    // total padding d(k-1); PyTorch puts the extra pixel of an odd total at the end.
    const th = dilation[0] * (kH - 1), tw = dilation[1] * (kW - 1);
    pad = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  } else if (typeof p === 'number') pad = [p, p, p, p];
  else if (Array.isArray(p) && p.length === 2) pad = [p[0], p[1], p[0], p[1]];
  else if (Array.isArray(p) && p.length === 4) pad = [p[0], p[1], p[2], p[3]];
  else throw new Error(`reference: bad padding ${String(p)}`);
  return { stride, pad, dilation, groups: o?.groups ?? 1 };
}

/** Cross-correlation, zero padding: out[n,o,i,j] = b[o] + sum_{c in group, kh, kw} x[n, c, i*s - pt + kh*d, ...] w[o, c', kh, kw]. */
export function refConv2d(x: Arr, xs: number[], w: Arr, ws: number[], b: Arr | null, o: RefConvOpts): Ref {
  const [N, C, H, W] = xs;
  const [O, Cg, kH, kW] = ws;
  const { stride: [sH, sW], pad: [pt, pl, pb, pr], dilation: [dH, dW], groups } = o;
  if (Cg * groups !== C) throw new Error('reference conv: channel mismatch');
  const OH = refOutSize(H, kH, sH, pt, pb, dH, false);
  const OW = refOutSize(W, kW, sW, pl, pr, dW, false);
  const Og = O / groups;
  const out = new Float64Array(N * O * OH * OW);
  const absSum = new Float64Array(out.length);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < O; oc++) {
      const g = Math.floor(oc / Og);
      for (let i = 0; i < OH; i++) {
        for (let j = 0; j < OW; j++) {
          let acc = b ? b[oc] : 0;
          let abs = b ? Math.abs(b[oc]) : 0;
          for (let cc = 0; cc < Cg; cc++) {
            const c = g * Cg + cc;
            for (let kh = 0; kh < kH; kh++) {
              const h = i * sH - pt + kh * dH;
              if (h < 0 || h >= H) continue;
              for (let kw = 0; kw < kW; kw++) {
                const ww = j * sW - pl + kw * dW;
                if (ww < 0 || ww >= W) continue;
                const t = x[((n * C + c) * H + h) * W + ww] * w[((oc * Cg + cc) * kH + kh) * kW + kw];
                acc += t;
                abs += Math.abs(t);
              }
            }
          }
          const idx = ((n * O + oc) * OH + i) * OW + j;
          out[idx] = acc;
          absSum[idx] = abs;
        }
      }
    }
  }
  return { out, shape: [N, O, OH, OW], absSum, K: Cg * kH * kW };
}

/** True (flipped-kernel) convolution, valid region, as in the mathematical definition. */
export function refTrueConv2dValid(x: Arr, H: number, W: number, k: Arr, kH: number, kW: number, s = 1): number[][] {
  const OH = Math.floor((H - kH) / s) + 1, OW = Math.floor((W - kW) / s) + 1;
  const res: number[][] = [];
  for (let i = 0; i < OH; i++) {
    const row: number[] = [];
    for (let j = 0; j < OW; j++) {
      let acc = 0;
      // (I * K)(i, j) = sum_m sum_n I(i*s + m, j*s + n) K(kH-1-m, kW-1-n)
      for (let m = 0; m < kH; m++) for (let n = 0; n < kW; n++) acc += x[(i * s + m) * W + (j * s + n)] * k[(kH - 1 - m) * kW + (kW - 1 - n)];
      row.push(acc);
    }
    res.push(row);
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// pooling (PyTorch rules)

export interface RefPoolOpts {
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  dilation: [number, number];
  ceilMode: boolean;
  countIncludePad: boolean;
}

export function resolvePoolOpts(o: {
  kernelSize: number | number[]; stride?: number | number[]; padding?: number | number[];
  dilation?: number | number[]; ceilMode?: boolean; countIncludePad?: boolean;
}): RefPoolOpts {
  const pair = (v: number | number[] | undefined, d: [number, number]): [number, number] =>
    v === undefined ? d : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  const kernel = pair(o.kernelSize, [0, 0]);
  return {
    kernel,
    stride: pair(o.stride, kernel),
    pad: pair(o.padding, [0, 0]),
    dilation: pair(o.dilation, [1, 1]),
    ceilMode: o.ceilMode ?? false,
    countIncludePad: o.countIncludePad ?? true,
  };
}

/**
 * max/min: extremum over the window's taps that fall inside the input (padding never wins).
 * avg (no dilation, as PyTorch): hstart = i*s - p, hend = min(hstart + k, H + p); the divisor is
 * (hend - hstart) * (wend - wstart) with countIncludePad, otherwise the count of in-input taps;
 * the sum runs over the window clipped to the input.
 */
export function refPool2d(x: Arr, xs: number[], mode: 'max' | 'avg' | 'min', o: RefPoolOpts): Ref {
  const [N, C, H, W] = xs;
  const { kernel: [kH, kW], stride: [sH, sW], pad: [pH, pW], dilation: [dH, dW], ceilMode } = o;
  const OH = refOutSize(H, kH, sH, pH, pH, dH, ceilMode);
  const OW = refOutSize(W, kW, sW, pW, pW, dW, ceilMode);
  const out = new Float64Array(N * C * OH * OW);
  const absSum = new Float64Array(out.length);
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let i = 0; i < OH; i++) {
      for (let j = 0; j < OW; j++) {
        const idx = (nc * OH + i) * OW + j;
        if (mode === 'avg') {
          const hs0 = i * sH - pH, ws0 = j * sW - pW;
          const he0 = Math.min(hs0 + kH, H + pH), we0 = Math.min(ws0 + kW, W + pW);
          const poolSize = (he0 - hs0) * (we0 - ws0);
          const hs = Math.max(hs0, 0), ws = Math.max(ws0, 0), he = Math.min(he0, H), we = Math.min(we0, W);
          let s = 0, a = 0;
          for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) { s += x[base + h * W + w]; a += Math.abs(x[base + h * W + w]); }
          const div = o.countIncludePad ? poolSize : (he - hs) * (we - ws);
          out[idx] = s / div;
          absSum[idx] = a / div;
        } else {
          let best = mode === 'max' ? -Infinity : Infinity;
          for (let kh = 0; kh < kH; kh++) {
            const h = i * sH - pH + kh * dH;
            if (h < 0 || h >= H) continue;
            for (let kw = 0; kw < kW; kw++) {
              const w = j * sW - pW + kw * dW;
              if (w < 0 || w >= W) continue;
              const v = x[base + h * W + w];
              if (mode === 'max' ? v > best : v < best) best = v;
            }
          }
          out[idx] = best;
        }
      }
    }
  }
  return { out, shape: [N, C, OH, OW], absSum, K: kH * kW };
}

export function refGlobalPool(x: Arr, xs: number[], mode: 'max' | 'avg'): Ref {
  const [N, C, H, W] = xs;
  const HW = H * W;
  const out = new Float64Array(N * C);
  const absSum = new Float64Array(N * C);
  for (let nc = 0; nc < N * C; nc++) {
    let best = -Infinity, s = 0, a = 0;
    for (let k = 0; k < HW; k++) {
      const v = x[nc * HW + k];
      if (v > best) best = v;
      s += v;
      a += Math.abs(v);
    }
    out[nc] = mode === 'max' ? best : s / HW;
    absSum[nc] = a / HW;
  }
  return { out, shape: [N, C, 1, 1], absSum, K: HW };
}

// ---------------------------------------------------------------------------------------------
// normalisation

export interface NormRef extends Ref {
  /** Per element |x - mean| * rstd (the normalised magnitude) and per element rstd * max|x| of its group. */
  xhatAbs: Float64Array;
  scale: Float64Array;
}

/** Normalises x viewed as groups of `len` values with the given per-group mean/var; w/b per channel. */
function normalise(x: Arr, groupOf: (i: number) => number, chanOf: (i: number) => number, mean: Float64Array,
  variance: Float64Array, w: Arr | null, b: Arr | null, eps: number, shape: number[], maxAbs: Float64Array): NormRef {
  const n = x.length;
  const out = new Float64Array(n), xhatAbs = new Float64Array(n), scale = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = groupOf(i), c = chanOf(i);
    const rstd = 1 / Math.sqrt(variance[g] + eps);
    const xhat = (x[i] - mean[g]) * rstd;
    const wc = w ? w[c] : 1, bc = b ? b[c] : 0;
    out[i] = xhat * wc + bc;
    xhatAbs[i] = Math.abs(xhat * wc);
    scale[i] = Math.abs(wc) * rstd * maxAbs[g] + Math.abs(bc);
  }
  return { out, shape, xhatAbs, scale };
}

/** Per channel mean and biased variance over (N, H, W). */
export function refChannelStats(x: Arr, xs: number[]): { mean: Float64Array; variance: Float64Array; maxAbs: Float64Array } {
  const [N, C, H, W] = xs;
  const HW = H * W, m = N * HW;
  const mean = new Float64Array(C), variance = new Float64Array(C), maxAbs = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) { const v = x[(n * C + c) * HW + k]; s += v; maxAbs[c] = Math.max(maxAbs[c], Math.abs(v)); }
    mean[c] = s / m;
    let q = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) { const d = x[(n * C + c) * HW + k] - mean[c]; q += d * d; }
    variance[c] = q / m;
  }
  return { mean, variance, maxAbs };
}

/** Eval mode: (x - runningMean) / sqrt(runningVar + eps) * w + b. */
export function refBatchNormEval(x: Arr, xs: number[], rm: Arr, rv: Arr, w: Arr | null, b: Arr | null, eps: number): NormRef {
  const [, C, H, W] = xs;
  const HW = H * W;
  // An implementation may fold this into x * scale + shift; its rounding then scales with |x| + |rm|.
  const maxAbs = new Float64Array(C);
  for (let i = 0; i < x.length; i++) { const c = Math.floor(i / HW) % C; maxAbs[c] = Math.max(maxAbs[c], Math.abs(x[i]) + Math.abs(rm[c])); }
  const chan = (i: number) => Math.floor(i / HW) % C;
  return normalise(x, chan, chan, Float64Array.from(rm), Float64Array.from(rv), w, b, eps, xs.slice(), maxAbs);
}

/** Training mode: batch statistics (biased variance) for the output; running stats updated with
 * momentum and the unbiased variance m/(m-1). */
export function refBatchNormTrain(x: Arr, xs: number[], rm: Arr, rv: Arr, w: Arr | null, b: Arr | null, eps: number, momentum: number):
  NormRef & { runningMean: Float64Array; runningVar: Float64Array } {
  const [N, C, H, W] = xs;
  const HW = H * W, m = N * HW;
  const { mean, variance, maxAbs } = refChannelStats(x, xs);
  const chan = (i: number) => Math.floor(i / HW) % C;
  const r = normalise(x, chan, chan, mean, variance, w, b, eps, xs.slice(), maxAbs);
  const runningMean = new Float64Array(C), runningVar = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    runningMean[c] = (1 - momentum) * rm[c] + momentum * mean[c];
    runningVar[c] = (1 - momentum) * rv[c] + momentum * variance[c] * m / (m - 1);
  }
  return { ...r, runningMean, runningVar, K: m };
}

/** Each row of `inner` trailing values normalised with its own mean and biased variance; w/b elementwise over the row. */
export function refLayerNorm(x: Arr, xs: number[], inner: number, w: Arr | null, b: Arr | null, eps: number): NormRef {
  const outer = x.length / inner;
  const mean = new Float64Array(outer), variance = new Float64Array(outer), maxAbs = new Float64Array(outer);
  for (let r = 0; r < outer; r++) {
    let s = 0;
    for (let k = 0; k < inner; k++) { s += x[r * inner + k]; maxAbs[r] = Math.max(maxAbs[r], Math.abs(x[r * inner + k])); }
    mean[r] = s / inner;
    let q = 0;
    for (let k = 0; k < inner; k++) { const d = x[r * inner + k] - mean[r]; q += d * d; }
    variance[r] = q / inner;
  }
  const res = normalise(x, (i) => Math.floor(i / inner), (i) => i % inner, mean, variance, w, b, eps, xs.slice(), maxAbs);
  return { ...res, K: inner };
}

/** Each (n, c) plane normalised over H x W; w/b per channel. */
export function refInstanceNorm(x: Arr, xs: number[], w: Arr | null, b: Arr | null, eps: number): NormRef {
  const [N, C, H, W] = xs;
  const HW = H * W;
  const mean = new Float64Array(N * C), variance = new Float64Array(N * C), maxAbs = new Float64Array(N * C);
  for (let g = 0; g < N * C; g++) {
    let s = 0;
    for (let k = 0; k < HW; k++) { s += x[g * HW + k]; maxAbs[g] = Math.max(maxAbs[g], Math.abs(x[g * HW + k])); }
    mean[g] = s / HW;
    let q = 0;
    for (let k = 0; k < HW; k++) { const d = x[g * HW + k] - mean[g]; q += d * d; }
    variance[g] = q / HW;
  }
  const res = normalise(x, (i) => Math.floor(i / HW), (i) => Math.floor(i / HW) % C, mean, variance, w, b, eps, xs.slice(), maxAbs);
  return { ...res, K: HW };
}

// ---------------------------------------------------------------------------------------------
// linear / matmul

/** out[n, o] = b[o] + sum_i x[n, i] w[o, i]. */
export function refLinear(x: Arr, N: number, inF: number, w: Arr, outF: number, b: Arr | null): Ref {
  const out = new Float64Array(N * outF), absSum = new Float64Array(N * outF);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < outF; o++) {
      let acc = b ? b[o] : 0, abs = b ? Math.abs(b[o]) : 0;
      for (let i = 0; i < inF; i++) { const t = x[n * inF + i] * w[o * inF + i]; acc += t; abs += Math.abs(t); }
      out[n * outF + o] = acc;
      absSum[n * outF + o] = abs;
    }
  }
  return { out, shape: [N, outF], absSum, K: inF };
}

/** out[m, n] = sum_k a[m, k] b[k, n]. */
export function refMatmul(a: Arr, M: number, K: number, b: Arr, N: number): Ref {
  const out = new Float64Array(M * N), absSum = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0, abs = 0;
      for (let k = 0; k < K; k++) { const t = a[m * K + k] * b[k * N + n]; acc += t; abs += Math.abs(t); }
      out[m * N + n] = acc;
      absSum[m * N + n] = abs;
    }
  }
  return { out, shape: [M, N], absSum, K };
}

// ---------------------------------------------------------------------------------------------
// activations

export function refUnary(kind: 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh', x: Arr, slope = 0.01): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    switch (kind) {
      case 'relu': out[i] = v > 0 ? v : 0; break;
      case 'leakyRelu': out[i] = v > 0 ? v : slope * v; break;
      case 'sigmoid': out[i] = 1 / (1 + Math.exp(-v)); break;
      case 'tanh': out[i] = Math.tanh(v); break;
    }
  }
  return out;
}

/** softmax / log-softmax along `dim` (negative dims count from the end). */
export function refSoftmax(x: Arr, xs: number[], dim: number, log: boolean): Ref {
  const d = dim < 0 ? dim + xs.length : dim;
  const outer = xs.slice(0, d).reduce((a, b) => a * b, 1);
  const n = xs[d];
  const inner = xs.slice(d + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(x.length);
  const absSum = new Float64Array(x.length); // max |x| along the softmax axis
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * n + k) * inner + i;
      let mx = -Infinity, ma = 0;
      for (let k = 0; k < n; k++) { mx = Math.max(mx, x[at(k)]); ma = Math.max(ma, Math.abs(x[at(k)])); }
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(x[at(k)] - mx);
      for (let k = 0; k < n; k++) {
        out[at(k)] = log ? x[at(k)] - mx - Math.log(s) : Math.exp(x[at(k)] - mx) / s;
        absSum[at(k)] = ma;
      }
    }
  }
  return { out, shape: xs.slice(), absSum, K: n };
}

// ---------------------------------------------------------------------------------------------
// elementwise with per-channel broadcast

/** b has a's shape, or [1, C, 1, ...] broadcast per channel (a's dim 1). */
export function refBinary(kind: 'add' | 'sub' | 'mul' | 'div', a: Arr, as: number[], b: Arr, bs: number[]): Float64Array {
  const out = new Float64Array(a.length);
  const same = as.length === bs.length && as.every((d, i) => d === bs[i]);
  const C = as[1] ?? 1;
  const inner = as.slice(2).reduce((x, y) => x * y, 1);
  for (let i = 0; i < a.length; i++) {
    const bv = same ? b[i] : b[Math.floor(i / inner) % C];
    const av = a[i];
    out[i] = kind === 'add' ? av + bv : kind === 'sub' ? av - bv : kind === 'mul' ? av * bv : av / bv;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// losses

/** mean_n [ logsumexp(logits[n, :]) - logits[n, t_n] ] */
export function refCrossEntropy(logits: Arr, N: number, K: number, targets: ArrayLike<number>): number {
  let total = 0;
  for (let n = 0; n < N; n++) {
    let mx = -Infinity;
    for (let k = 0; k < K; k++) mx = Math.max(mx, logits[n * K + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits[n * K + k] - mx);
    total += mx + Math.log(s) - logits[n * K + targets[n]];
  }
  return total / N;
}

/** mean((a - b)^2) */
export function refMse(a: Arr, b: Arr): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) { const d = a[i] - b[i]; s += d * d; }
  return s / a.length;
}

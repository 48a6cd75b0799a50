/**
 * 2-D pooling with PyTorch's window rules (see `PoolGeom`): max/min windows are clipped to the
 * input, so padding never wins; avg divides by the window clipped to the padded input
 * (countIncludePad) or to the input. NaN propagates through max/min as in PyTorch.
 */
import type { FArray, PoolGeom, PoolMode } from '../types.js';

/**
 * Number of leading taps to skip and one past the last tap, for taps `start + k * dilation`
 * (k in [0, kernel)) that fall inside `[0, size)`; written to `range[0..1]` (lo <= hi always).
 */
export function tapRange(start: number, dilation: number, size: number, kernel: number, range: Int32Array): void {
  const lo = start >= 0 ? 0 : Math.ceil(-start / dilation);
  const hi = start > size - 1 ? 0 : Math.min(kernel, Math.floor((size - 1 - start) / dilation) + 1);
  range[0] = Math.min(lo, kernel);
  range[1] = Math.max(range[0], hi);
}

/** Per-output-column tap ranges of one axis: lo[o], hi[o] for o in [0, outSize). */
export function axisTaps(outSize: number, stride: number, pad: number, dilation: number, size: number,
  kernel: number): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const r = new Int32Array(2);
  for (let o = 0; o < outSize; o++) {
    tapRange(o * stride - pad, dilation, size, kernel, r);
    lo[o] = r[0]; hi[o] = r[1];
  }
  return { lo, hi };
}

/**
 * The avg-pool divisor of every output position along one axis: the number of taps inside the
 * padded input (countIncludePad) or inside the input. The 2-D divisor is the product of the two.
 */
export function avgAxisCounts(outSize: number, stride: number, pad: number, dilation: number, size: number,
  kernel: number, countIncludePad: boolean): Int32Array {
  const counts = new Int32Array(outSize);
  const r = new Int32Array(2);
  for (let o = 0; o < outSize; o++) {
    if (countIncludePad) tapRange(o * stride, dilation, size + 2 * pad, kernel, r);
    else tapRange(o * stride - pad, dilation, size, kernel, r);
    counts[o] = r[1] - r[0];
  }
  return counts;
}

/** out[N, C, OH, OW] = pool(x[N, C, H, W]) (PyTorch `max_pool2d` / `avg_pool2d`; min = -max(-x)). */
export function pool2d(x: FArray, g: PoolGeom, mode: PoolMode, countIncludePad: boolean, out: FArray): void {
  const { N, C, H, W, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, OH, OW } = g;
  const rows = axisTaps(OH, strideH, padH, dilationH, H, kH);
  const cols = axisTaps(OW, strideW, padW, dilationW, W, kW);
  const HW = H * W;
  const OHW = OH * OW;

  if (mode === 'avg') {
    const rowCount = avgAxisCounts(OH, strideH, padH, dilationH, H, kH, countIncludePad);
    const colCount = avgAxisCounts(OW, strideW, padW, dilationW, W, kW, countIncludePad);
    for (let p = 0; p < N * C; p++) {
      const xBase = p * HW;
      const oBase = p * OHW;
      for (let oh = 0; oh < OH; oh++) {
        const ih0 = oh * strideH - padH;
        const kh0 = rows.lo[oh], kh1 = rows.hi[oh];
        for (let ow = 0; ow < OW; ow++) {
          const iw0 = ow * strideW - padW;
          const kw0 = cols.lo[ow], kw1 = cols.hi[ow];
          let s = 0;
          for (let kh = kh0; kh < kh1; kh++) {
            const xRow = xBase + (ih0 + kh * dilationH) * W + iw0;
            for (let kw = kw0; kw < kw1; kw++) s += x[xRow + kw * dilationW];
          }
          out[oBase + oh * OW + ow] = s / (rowCount[oh] * colCount[ow]);
        }
      }
    }
    return;
  }

  // min pooling is max pooling of -x, negated back; negation is exact and keeps NaN, and the
  // first extreme still wins ties.
  const sign = mode === 'min' ? -1 : 1;
  for (let p = 0; p < N * C; p++) {
    const xBase = p * HW;
    const oBase = p * OHW;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * strideH - padH;
      const kh0 = rows.lo[oh], kh1 = rows.hi[oh];
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * strideW - padW;
        const kw0 = cols.lo[ow], kw1 = cols.hi[ow];
        let best = -Infinity;
        for (let kh = kh0; kh < kh1; kh++) {
          const xRow = xBase + (ih0 + kh * dilationH) * W + iw0;
          for (let kw = kw0; kw < kw1; kw++) {
            const v = sign * x[xRow + kw * dilationW];
            if (v > best || v !== v) best = v;
          }
        }
        out[oBase + oh * OW + ow] = sign * best;
      }
    }
  }
}

/** x viewed as [N, C, HW] -> out [N, C]: the mean or the max (NaN propagates) of each plane. */
export function globalPool2d(x: FArray, N: number, C: number, HW: number, mode: 'max' | 'avg', out: FArray): void {
  for (let p = 0; p < N * C; p++) {
    const base = p * HW;
    if (mode === 'avg') {
      let s = 0;
      for (let i = 0; i < HW; i++) s += x[base + i];
      out[p] = s / HW;
    } else {
      let best = -Infinity;
      for (let i = 0; i < HW; i++) {
        const v = x[base + i];
        if (v > best || v !== v) best = v;
      }
      out[p] = best;
    }
  }
}

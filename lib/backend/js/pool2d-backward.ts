/**
 * Gradients of `pool2d` / `globalPool2d` w.r.t. their input. Max/min route each dy element to the
 * window's arg-extreme, recomputed from x with the forward's comparisons: the first occurrence wins
 * ties, and a NaN beats numbers (the last NaN wins), as in PyTorch's CPU kernel. Avg spreads
 * dy / divisor over the window's input taps. dx is overwritten.
 */
import type { FArray, PoolGeom, PoolMode } from '../types.js';
import { avgAxisCounts, axisTaps } from './pool2d.js';

/** dx[N, C, H, W] from x[N, C, H, W] and dy[N, C, OH, OW] for the pooling described by g. */
export function pool2dBackward(x: FArray, dy: FArray, g: PoolGeom, mode: PoolMode, countIncludePad: boolean,
  dx: FArray): void {
  const { N, C, H, W, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, OH, OW } = g;
  const rows = axisTaps(OH, strideH, padH, dilationH, H, kH);
  const cols = axisTaps(OW, strideW, padW, dilationW, W, kW);
  const HW = H * W;
  const OHW = OH * OW;
  const acc = new Float64Array(HW);
  const rowCount = mode === 'avg' ? avgAxisCounts(OH, strideH, padH, dilationH, H, kH, countIncludePad) : null;
  const colCount = mode === 'avg' ? avgAxisCounts(OW, strideW, padW, dilationW, W, kW, countIncludePad) : null;
  const sign = mode === 'min' ? -1 : 1;

  for (let p = 0; p < N * C; p++) {
    const xBase = p * HW;
    const dyBase = p * OHW;
    acc.fill(0);
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * strideH - padH;
      const kh0 = rows.lo[oh], kh1 = rows.hi[oh];
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * strideW - padW;
        const kw0 = cols.lo[ow], kw1 = cols.hi[ow];
        const gv = dy[dyBase + oh * OW + ow];
        if (rowCount !== null && colCount !== null) {
          const share = gv / (rowCount[oh] * colCount[ow]);
          for (let kh = kh0; kh < kh1; kh++) {
            const row = (ih0 + kh * dilationH) * W + iw0;
            for (let kw = kw0; kw < kw1; kw++) acc[row + kw * dilationW] += share;
          }
        } else {
          let best = -Infinity;
          let arg = -1;
          for (let kh = kh0; kh < kh1; kh++) {
            const row = (ih0 + kh * dilationH) * W + iw0;
            for (let kw = kw0; kw < kw1; kw++) {
              const v = sign * x[xBase + row + kw * dilationW];
              if (v > best || v !== v || arg < 0) { best = v; arg = row + kw * dilationW; }
            }
          }
          if (arg >= 0) acc[arg] += gv;
        }
      }
    }
    for (let i = 0; i < HW; i++) dx[xBase + i] = acc[i];
  }
}

/** dx[N, C, HW] from x and dy[N, C]: avg spreads dy / HW, max routes dy to the first arg-max. */
export function globalPool2dBackward(x: FArray, dy: FArray, N: number, C: number, HW: number,
  mode: 'max' | 'avg', dx: FArray): void {
  for (let p = 0; p < N * C; p++) {
    const base = p * HW;
    const gv = dy[p];
    if (mode === 'avg') {
      const share = gv / HW;
      for (let i = 0; i < HW; i++) dx[base + i] = share;
    } else {
      let best = -Infinity;
      let arg = -1;
      for (let i = 0; i < HW; i++) {
        const v = x[base + i];
        if (v > best || v !== v || arg < 0) { best = v; arg = i; }
      }
      for (let i = 0; i < HW; i++) dx[base + i] = 0;
      if (arg >= 0) dx[base + arg] = gv;
    }
  }
}

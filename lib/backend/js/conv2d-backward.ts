/**
 * Gradients of `conv2d` without its fused activation (autograd applies the activation's gradient
 * first). Same loop structure and per-tap valid ranges as the forward kernel; every output array is
 * overwritten, not accumulated into.
 */
import type { Conv2dGeom, FArray } from '../types.js';
import { validRange } from './conv2d.js';

/** validRange for each tap k of one kernel axis, as [lo[k], hi[k]). */
function tapRanges(k: number, dilation: number, pad: number, stride: number, size: number, outSize: number):
  { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(k);
  const hi = new Int32Array(k);
  for (let t = 0; t < k; t++) {
    const [a, b] = validRange(t * dilation - pad, stride, size, outSize);
    lo[t] = a; hi[t] = b;
  }
  return { lo, hi };
}

/**
 * dx[N, C, H, W] = conv2d's gradient w.r.t. its input, given dy[N, outC, OH, OW] and w (a transposed
 * convolution): each dy element is scattered back through every kernel tap into a float64 image.
 * Input channels are taken four at a time so one dy load feeds four planes (the rest one by one).
 */
export function conv2dBackwardInput(dy: FArray, w: FArray, g: Conv2dGeom, dx: FArray): void {
  const { N, C, H, W, outC, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW, groups, OH, OW } = g;
  const cinG = C / groups;
  const coutG = outC / groups;
  const HW = H * W;
  const OHW = OH * OW;
  const kHW = kH * kW;
  const rows = tapRanges(kH, dilationH, padTop, strideH, H, OH);
  const cols = tapRanges(kW, dilationW, padLeft, strideW, W, OW);
  const acc = new Float64Array(C * HW);
  const p1 = HW, p2 = 2 * HW, p3 = 3 * HW;
  for (let n = 0; n < N; n++) {
    acc.fill(0);
    for (let oc = 0; oc < outC; oc++) {
      const grp = (oc / coutG) | 0;
      const dyBase = (n * outC + oc) * OHW;
      for (let icg = 0; icg < cinG;) {
        const four = cinG - icg >= 4;
        const aBase = (grp * cinG + icg) * HW;
        const wBase = (oc * cinG + icg) * kHW;
        for (let kh = 0; kh < kH; kh++) {
          const ihOff = kh * dilationH - padTop;
          const oh0 = rows.lo[kh], oh1 = rows.hi[kh];
          for (let kw = 0; kw < kW; kw++) {
            const t = wBase + kh * kW + kw;
            const w0 = w[t];
            const iwOff = kw * dilationW - padLeft;
            const ow0 = cols.lo[kw], ow1 = cols.hi[kw];
            if (!four) {
              for (let oh = oh0; oh < oh1; oh++) {
                const aRow = aBase + (oh * strideH + ihOff) * W + iwOff;
                const dRow = dyBase + oh * OW;
                for (let ow = ow0; ow < ow1; ow++) acc[aRow + ow * strideW] += w0 * dy[dRow + ow];
              }
              continue;
            }
            const w1 = w[t + kHW], w2 = w[t + 2 * kHW], w3 = w[t + 3 * kHW];
            for (let oh = oh0; oh < oh1; oh++) {
              const aRow = aBase + (oh * strideH + ihOff) * W + iwOff;
              const dRow = dyBase + oh * OW;
              for (let ow = ow0; ow < ow1; ow++) {
                const gv = dy[dRow + ow];
                const a = aRow + ow * strideW;
                acc[a] += w0 * gv;
                acc[a + p1] += w1 * gv;
                acc[a + p2] += w2 * gv;
                acc[a + p3] += w3 * gv;
              }
            }
          }
        }
        icg += four ? 4 : 1;
      }
    }
    const xBase = n * C * HW;
    for (let i = 0; i < C * HW; i++) dx[xBase + i] = acc[i];
  }
}

/**
 * dw[outC, C/groups, kH, kW] = conv2d's gradient w.r.t. its weight, given the input x and
 * dy[N, outC, OH, OW]: the correlation of x with dy, one float64 sum per weight. Output channels
 * are taken four at a time so one x load feeds four sums (the rest one by one).
 */
export function conv2dBackwardWeight(x: FArray, dy: FArray, g: Conv2dGeom, dw: FArray): void {
  const { N, C, H, W, outC, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW, groups, OH, OW } = g;
  const cinG = C / groups;
  const coutG = outC / groups;
  const HW = H * W;
  const OHW = OH * OW;
  const taps = cinG * kH * kW;
  const rows = tapRanges(kH, dilationH, padTop, strideH, H, OH);
  const cols = tapRanges(kW, dilationW, padLeft, strideW, W, OW);
  for (let grp = 0; grp < groups; grp++) {
    const ocEnd = (grp + 1) * coutG;
    for (let oc = grp * coutG; oc < ocEnd;) {
      const four = ocEnd - oc >= 4;
      for (let icg = 0; icg < cinG; icg++) {
        const c = grp * cinG + icg;
        for (let kh = 0; kh < kH; kh++) {
          const ihOff = kh * dilationH - padTop;
          const oh0 = rows.lo[kh], oh1 = rows.hi[kh];
          for (let kw = 0; kw < kW; kw++) {
            const iwOff = kw * dilationW - padLeft;
            const ow0 = cols.lo[kw], ow1 = cols.hi[kw];
            let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (let n = 0; n < N; n++) {
              const xBase = (n * C + c) * HW;
              const dyBase = (n * outC + oc) * OHW;
              for (let oh = oh0; oh < oh1; oh++) {
                const xRow = xBase + (oh * strideH + ihOff) * W + iwOff;
                const dRow = dyBase + oh * OW;
                if (!four) {
                  for (let ow = ow0; ow < ow1; ow++) s0 += dy[dRow + ow] * x[xRow + ow * strideW];
                  continue;
                }
                for (let ow = ow0; ow < ow1; ow++) {
                  const xv = x[xRow + ow * strideW];
                  const d = dRow + ow;
                  s0 += dy[d] * xv;
                  s1 += dy[d + OHW] * xv;
                  s2 += dy[d + 2 * OHW] * xv;
                  s3 += dy[d + 3 * OHW] * xv;
                }
              }
            }
            const t = oc * taps + (icg * kH + kh) * kW + kw;
            dw[t] = s0;
            if (four) { dw[t + taps] = s1; dw[t + 2 * taps] = s2; dw[t + 3 * taps] = s3; }
          }
        }
      }
      oc += four ? 4 : 1;
    }
  }
}

/** db[outC] = sum of dy[N, outC, OH, OW] over N, OH and OW (the bias gradient of conv2d). */
export function conv2dBackwardBias(dy: FArray, g: Conv2dGeom, db: FArray): void {
  const { N, outC, OH, OW } = g;
  const OHW = OH * OW;
  for (let oc = 0; oc < outC; oc++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * outC + oc) * OHW;
      for (let i = 0; i < OHW; i++) s += dy[base + i];
    }
    db[oc] = s;
  }
}

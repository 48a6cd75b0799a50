/**
 * Direct 2-D convolution, the reference for every native conv path.
 *
 * Loop order: output channels are taken four at a time (within one group) and their planes are
 * accumulated in a float64 scratch [4, OH * OW] by sweeping the kernel taps (ic, kh, kw); each tap
 * adds `w[oc + j, tap] * x` along whole output rows. Sharing one input load between four channels
 * roughly halves the time of this load-bound loop in V8. A tap's valid output range is computed once
 * per kh / kw, so the innermost loop has no bounds checks and no index division.
 */
import type { Conv2dGeom, FArray } from '../types.js';

/**
 * The output positions `[lo, hi)` for which `o * stride + offset` lands inside `[0, size)`, where
 * `offset` is `k * dilation - padBegin` for kernel tap k (lo <= hi). Shared with the backward kernels.
 */
export function validRange(offset: number, stride: number, size: number, outSize: number): [number, number] {
  const lo = offset >= 0 ? 0 : Math.ceil(-offset / stride);
  const hi = offset > size - 1 ? 0 : Math.min(outSize, Math.floor((size - 1 - offset) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/** Output channels accumulated together; see the file comment. */
const OC_BLOCK = 4;

/** out[N, outC, OH, OW] = conv(x, w) + b, then the fused activation (PyTorch `F.conv2d`). */
export function conv2d(x: FArray, w: FArray, b: FArray | null, g: Conv2dGeom, out: FArray,
  act: 'none' | 'relu' = 'none'): void {
  const { N, C, H, W, outC, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW, groups, OH, OW } = g;
  const cinG = C / groups;           // input channels per group
  const coutG = outC / groups;       // output channels per group
  const HW = H * W;
  const OHW = OH * OW;
  const taps = cinG * kH * kW;       // weights per output channel
  const acc = new Float64Array(OC_BLOCK * OHW);
  const owLo = new Int32Array(kW);
  const owHi = new Int32Array(kW);
  for (let kw = 0; kw < kW; kw++) {
    const [lo, hi] = validRange(kw * dilationW - padLeft, strideW, W, OW);
    owLo[kw] = lo; owHi[kw] = hi;
  }
  const ohLo = new Int32Array(kH);
  const ohHi = new Int32Array(kH);
  for (let kh = 0; kh < kH; kh++) {
    const [lo, hi] = validRange(kh * dilationH - padTop, strideH, H, OH);
    ohLo[kh] = lo; ohHi[kh] = hi;
  }
  const relu = act === 'relu';
  const p1 = OHW, p2 = 2 * OHW, p3 = 3 * OHW;   // plane offsets inside acc

  for (let n = 0; n < N; n++) {
    for (let grp = 0; grp < groups; grp++) {
      const ocEnd = (grp + 1) * coutG;
      for (let oc0 = grp * coutG; oc0 < ocEnd; oc0 += OC_BLOCK) {
        // Channels past the group's end get weight 0 and their planes are discarded.
        const nb = Math.min(OC_BLOCK, ocEnd - oc0);
        for (let j = 0; j < OC_BLOCK; j++) {
          acc.fill(j < nb && b !== null ? b[oc0 + j] : 0, j * OHW, (j + 1) * OHW);
        }
        for (let icg = 0; icg < cinG; icg++) {
          const xBase = (n * C + grp * cinG + icg) * HW;
          for (let kh = 0; kh < kH; kh++) {
            const ihOff = kh * dilationH - padTop;
            const oh0 = ohLo[kh], oh1 = ohHi[kh];
            for (let kw = 0; kw < kW; kw++) {
              const t = oc0 * taps + (icg * kH + kh) * kW + kw;
              const w0 = w[t];
              const w1 = nb > 1 ? w[t + taps] : 0;
              const w2 = nb > 2 ? w[t + 2 * taps] : 0;
              const w3 = nb > 3 ? w[t + 3 * taps] : 0;
              const iwOff = kw * dilationW - padLeft;
              const ow0 = owLo[kw], ow1 = owHi[kw];
              for (let oh = oh0; oh < oh1; oh++) {
                const xRow = xBase + (oh * strideH + ihOff) * W + iwOff;
                const aRow = oh * OW;
                if (nb === 1) {  // one channel per group (depthwise): skip the phantom planes
                  for (let ow = ow0; ow < ow1; ow++) acc[aRow + ow] += w0 * x[xRow + ow * strideW];
                  continue;
                }
                for (let ow = ow0; ow < ow1; ow++) {
                  const xv = x[xRow + ow * strideW];
                  const a = aRow + ow;
                  acc[a] += w0 * xv;
                  acc[a + p1] += w1 * xv;
                  acc[a + p2] += w2 * xv;
                  acc[a + p3] += w3 * xv;
                }
              }
            }
          }
        }
        for (let j = 0; j < nb; j++) {
          const oBase = (n * outC + oc0 + j) * OHW;
          const aBase = j * OHW;
          if (relu) {
            for (let i = 0; i < OHW; i++) { const v = acc[aBase + i]; out[oBase + i] = v < 0 ? 0 : v; }
          } else {
            for (let i = 0; i < OHW; i++) out[oBase + i] = acc[aBase + i];
          }
        }
      }
    }
  }
}

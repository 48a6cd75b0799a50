/**
 * Adaptive average pooling with PyTorch's bin rule: output cell i along an axis of input length
 * In and output length Out averages [floor(i*In/Out), ceil((i+1)*In/Out)). Bins may overlap and
 * differ in size, so the general case is its own op; sizes that are exactly a pooling go to the
 * existing ops (output 1: globalAvgPool2d; In divisible by Out: avgPool2d with kernel = stride).
 */
import { Tensor, assertNotCapturing } from '../tensor';
import { record } from '../autograd/tape';
import { avgPool2d, globalAvgPool2d } from '../ops/pool';
import { assertRank, assertTensor } from '../ops/validate';
import { shapeStr } from '../errors';

/** [start, end) of each output bin along one axis. */
export function adaptiveBins(inSize: number, outSize: number): [number, number][] {
  const bins: [number, number][] = [];
  for (let i = 0; i < outSize; i++) {
    bins.push([Math.floor((i * inSize) / outSize), Math.ceil(((i + 1) * inSize) / outSize)]);
  }
  return bins;
}

/**
 * Adaptive average pooling of x [N, C, H, W] to [N, C, outH, outW] (differentiable).
 * @example adaptiveAvgPool2d(x, [6, 6])
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: [number, number]): Tensor {
  const op = 'adaptiveAvgPool2d';
  assertTensor(op, 'x', x);
  assertRank(op, 'x', x, 4, 'NCHW');
  const [N, C, H, W] = x.shape;
  const [OH, OW] = outputSize;
  if (N < 1 || C < 1 || H < 1 || W < 1) throw new RangeError(`${op}: input x must have no zero dimension, got shape ${shapeStr(x.shape)}`);
  if (!Number.isInteger(OH) || !Number.isInteger(OW) || OH < 1 || OW < 1) {
    throw new RangeError(`${op}: 'outputSize' must be positive integers, got [${OH},${OW}]`);
  }
  if (OH === 1 && OW === 1) return globalAvgPool2d(x);
  if (H % OH === 0 && W % OW === 0) {
    const k: [number, number] = [H / OH, W / OW];
    return avgPool2d(x, { kernelSize: k, stride: k });
  }
  const hb = adaptiveBins(H, OH), wb = adaptiveBins(W, OW);
  assertNotCapturing('adaptiveAvgPool2d (uneven bins)');
  const xd = x.data;
  const out = new Float32Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++) {
    const xp = p * H * W, op0 = p * OH * OW;
    for (let i = 0; i < OH; i++) {
      const [h0, h1] = hb[i];
      for (let j = 0; j < OW; j++) {
        const [w0, w1] = wb[j];
        let s = 0;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += xd[xp + h * W + w];
        out[op0 + i * OW + j] = s / ((h1 - h0) * (w1 - w0));
      }
    }
  }
  return record(Tensor.wrap(out, [N, C, OH, OW]), op, [x], (dy) => {
    const dx = new Float32Array(N * C * H * W);
    for (let p = 0; p < N * C; p++) {
      const xp = p * H * W, op0 = p * OH * OW;
      for (let i = 0; i < OH; i++) {
        const [h0, h1] = hb[i];
        for (let j = 0; j < OW; j++) {
          const [w0, w1] = wb[j];
          const g = dy[op0 + i * OW + j] / ((h1 - h0) * (w1 - w0));
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) dx[xp + h * W + w] += g;
        }
      }
    }
    return [dx];
  });
}

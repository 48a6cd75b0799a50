/**
 * The backward kernels for the current backend: native ones where the addon has them, the
 * pure-TS reference otherwise (and always on the 'js' backend).
 */
import type { BackwardKernels } from './types';
import type { NativeAddon, NativeBackwardAddon } from './addon-types';
import { backend, getAddon } from './index';
import * as ref from './js/backward';

const jsGrad: BackwardKernels = {
  conv2dBackwardInput: ref.conv2dBackwardInput,
  conv2dBackwardWeight: ref.conv2dBackwardWeight,
  pool2dBackward: ref.pool2dBackward,
  batchNorm2dBackward: ref.batchNorm2dBackward,
  linearBackward: ref.linearBackward,
  unaryBackward: ref.unaryBackward,
  channelSum: ref.channelSum,
  binaryBackward: ref.binaryBackward,
  globalPool2dBackward: ref.globalPool2dBackward,
  crossEntropyBackward: ref.crossEntropyBackwardFrom,
};

const POOL = { max: 0, avg: 1, min: 2 } as const;
const UNARY_BACKWARD = { relu: 0, leakyRelu: 1, sigmoid: 2, tanh: 3, reluOut: 4 } as const;
const BINARY = { add: 0, sub: 1, mul: 2, div: 3 } as const;

function convGeom(g: import('./types').Conv2dGeom): number[] {
  return [g.N, g.C, g.H, g.W, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft, g.padBottom,
    g.padRight, g.dilationH, g.dilationW, g.groups];
}

let nativeGrad: BackwardKernels | null = null;

function makeNativeGrad(addon: NativeAddon & NativeBackwardAddon): BackwardKernels {
  const f = (a: unknown) => a as Float32Array;
  const fn = (a: unknown) => (a === null ? null : (a as Float32Array));
  return {
    conv2dBackwardInput: addon.conv2dBackwardInput
      ? (dy, w, g, dx) => addon.conv2dBackwardInput!(f(dy), f(w), f(dx), convGeom(g))
      : jsGrad.conv2dBackwardInput,
    conv2dBackwardWeight: addon.conv2dBackwardWeight
      ? (x, dy, g, dw) => addon.conv2dBackwardWeight!(f(x), f(dy), f(dw), convGeom(g))
      : jsGrad.conv2dBackwardWeight,
    pool2dBackward: addon.pool2dBackward
      ? (x, dy, g, mode, cip, dx) => addon.pool2dBackward!(f(x), f(dy), f(dx),
        [g.N, g.C, g.H, g.W, g.kH, g.kW, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.ceilMode ? 1 : 0],
        POOL[mode], cip)
      : jsGrad.pool2dBackward,
    batchNorm2dBackward: addon.batchNorm2dBackward
      ? (x, dy, N, C, HW, w, eps, dx, dw, db) => addon.batchNorm2dBackward!(f(x), f(dy), [N, C, HW], fn(w), eps, fn(dx), fn(dw), fn(db))
      : jsGrad.batchNorm2dBackward,
    linearBackward: addon.linearBackward
      ? (x, w, dy, N, inF, outF, dx, dw, db) => addon.linearBackward!(f(x), f(w), f(dy), [N, inF, outF], fn(dx), fn(dw), fn(db))
      : jsGrad.linearBackward,
    unaryBackward: addon.unaryBackward
      ? (kind, x, y, dy, alpha, dx) => addon.unaryBackward!(f(x), f(y), f(dy), f(dx), UNARY_BACKWARD[kind], alpha)
      : jsGrad.unaryBackward,
    channelSum: addon.channelSum
      ? (dy, N, C, inner, out) => addon.channelSum!(f(dy), f(out), [N, C, inner])
      : jsGrad.channelSum,
    binaryBackward: addon.binaryBackward
      ? (kind, a, b, dy, N, C, inner, mode, da, db) => addon.binaryBackward!(f(a), f(b), f(dy), [N, C, inner],
        BINARY[kind], mode === 'channel' ? 1 : 0, fn(da), fn(db))
      : jsGrad.binaryBackward,
    globalPool2dBackward: addon.globalPool2dBackward
      ? (x, dy, N, C, HW, mode, dx) => addon.globalPool2dBackward!(f(x), f(dy), f(dx), [N, C, HW], mode === 'max' ? 0 : 1)
      : jsGrad.globalPool2dBackward,
    crossEntropyBackward: addon.crossEntropyBackward
      ? (logits, targets, N, K, gradOut, dl) => addon.crossEntropyBackward!(f(logits), targets, [N, K], f(gradOut), f(dl))
      : jsGrad.crossEntropyBackward,
  };
}

export function gradKernels(): BackwardKernels {
  if (backend().name === 'js') return jsGrad;
  if (!nativeGrad) nativeGrad = makeNativeGrad(getAddon() as NativeAddon & NativeBackwardAddon);
  return nativeGrad;
}

export { ref as jsBackward };

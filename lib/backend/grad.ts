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
};

const POOL = { max: 0, avg: 1, min: 2 } as const;

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
  };
}

export function gradKernels(): BackwardKernels {
  if (backend().name === 'js') return jsGrad;
  if (!nativeGrad) nativeGrad = makeNativeGrad(getAddon() as NativeAddon & NativeBackwardAddon);
  return nativeGrad;
}

export { ref as jsBackward };

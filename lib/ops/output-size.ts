import { assertOptions, bool, int } from './validate';
import { outputSizeRaw } from './validate';
import { describe } from '../errors';

/**
 * The output size of a convolution or pooling along one axis.
 * @example ops.outputSize(7, 3, { stride: 2 }) // 3
 * @example ops.outputSize(32, 5, { padding: 2 }) // 32
 */
export function outputSize(
  inputSize: number,
  kernelSize: number,
  o?: { stride?: number; padding?: number | [number, number]; dilation?: number; ceilMode?: boolean },
): number {
  const op = 'outputSize';
  const opts = assertOptions(op, o);
  const I = int(op, 'inputSize', inputSize, 1);
  const K = int(op, 'kernelSize', kernelSize, 1);
  const S = int(op, 'stride', opts.stride ?? 1, 1);
  const D = int(op, 'dilation', opts.dilation ?? 1, 1);
  const ceil = bool(op, 'ceilMode', opts.ceilMode ?? false);
  let pb: number, pe: number;
  const p = opts.padding ?? 0;
  if (typeof p === 'number') pb = pe = int(op, 'padding', p, 0);
  else if (Array.isArray(p) && p.length === 2) { pb = int(op, 'padding[0]', p[0], 0); pe = int(op, 'padding[1]', p[1], 0); }
  else throw new TypeError(`${op}: 'padding' must be a number or [begin, end], got ${describe(p)}`);
  const out = outputSizeRaw(I, K, S, pb, pe, D, ceil);
  if (out < 1) {
    throw new RangeError(`${op}: input ${I} with padding ${pb}+${pe} is smaller than the dilated kernel ${D * (K - 1) + 1}: the output would be empty`);
  }
  return out;
}

/**
 * The pure-TypeScript reference backend (`setBackend('js')`): readable loops that define the
 * expected results of every native kernel and serve as the pure-JS baseline. Kernels accept
 * Float32Array or Float64Array (float64 for gradient checks) and accumulate in float64.
 */
import type { Backend } from '../types.js';
import { conv2d } from './conv2d.js';
import { pool2d, globalPool2d } from './pool2d.js';
import { batchNorm2d, channelStats, layerNorm, instanceNorm2d } from './norm.js';
import { linear, matmul } from './linear.js';
import { unary, softmax } from './activation.js';
import { binary, copyStrided } from './elementwise.js';
import { crossEntropy, crossEntropyInto, mseLoss } from './loss.js';
import { fill, copy, accumulate, runningStatsUpdate, sgdStep, adamStep } from './train-step.js';

export const jsBackend: Backend = {
  name: 'js',
  conv2d(x, w, b, g, out, act = 'none') {
    if (typeof act === 'string') return conv2d(x, w, b, g, out, act);
    conv2d(x, w, b, g, out, 'none');
    unary(act.kind, out, act.alpha, out, act.beta);
  },
  pool2d,
  globalPool2d,
  batchNorm2d,
  channelStats,
  layerNorm,
  instanceNorm2d,
  linear,
  matmul,
  unary,
  softmax,
  binary,
  copyStrided,
  crossEntropy,
  mseLoss,
  crossEntropyInto,
  fill,
  copy,
  accumulate,
  runningStatsUpdate,
  sgdStep,
  adamStep,
};

export * from './backward.js';
export { fill, copy, accumulate, runningStatsUpdate, sgdStep, adamStep } from './train-step.js';
export { crossEntropyInto } from './loss.js';

/**
 * simdcnn: a CNN engine for Node.js. The public surface of ../shared/API.md.
 * @example
 * import { tensor, ops } from 'simdcnn';
 * const y = ops.conv2d(tensor(x, [1, 1, 7, 7]), tensor(k, [1, 1, 3, 3]), null, { stride: 2 });
 */
import * as ops from './ops/index';

export { Tensor, tensor, zeros, ones, full, randn, rand, tidy, keep, setBufferPoolLimit } from './tensor';
export { memory } from './memory';
export { manualSeed } from './random';
export { setBackend, getBackend, setNumThreads, getNumThreads, cpuInfo } from './backend/index';
export { ops };
export { sub, div, matmul, sum, mean, argmax, concat, clone, detach } from './ops/index';
export { noGrad } from './autograd/tape';
import * as io from './io/index';
export { io };
import * as optim from './optim/index';
export { optim };
export { fit, evaluate } from './train/fit';
export { compileTrainStep, TrainStep } from './train/step';
export type { FitOptions, EpochStats, Dataset } from './train/fit';
import * as nn from './nn/index';
import * as models from './models/index';
export { nn, models };
export { receptiveField } from './nn/receptive-field';
export type { Module, Summary, SummaryRow } from './nn/index';
import * as serve from './serve/index';
export { serve };
import * as viz from './viz/index';
export { viz };

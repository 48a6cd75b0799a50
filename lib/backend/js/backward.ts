/**
 * The reference backward kernels, one import for autograd. Every kernel overwrites its outputs
 * (autograd accumulates into `.grad`), accepts Float32Array or Float64Array, and accumulates in
 * float64.
 */
export { conv2dBackwardInput, conv2dBackwardWeight, conv2dBackwardBias } from './conv2d-backward.js';
export { pool2dBackward, globalPool2dBackward } from './pool2d-backward.js';
export {
  batchNorm2dBackward, batchNorm2dBackwardEval, layerNormBackward, instanceNorm2dBackward,
} from './norm-backward.js';
export { linearBackward, matmulBackward } from './linear-backward.js';
export { unaryBackward, softmaxBackward, logSoftmaxBackward } from './activation-backward.js';
export { binaryBackward, channelSum } from './elementwise-backward.js';
export { crossEntropyBackward, crossEntropyBackwardFrom, mseLossBackward } from './loss-backward.js';

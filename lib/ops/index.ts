/** The functional ops: validate, run on the current backend, return new tensors. */
export { conv2d } from './conv2d';
export type { Conv2dOptions, Padding } from './conv2d';
export { maxPool2d, avgPool2d, minPool2d, globalAvgPool2d, globalMaxPool2d } from './pool';
export { batchNorm2d, layerNorm, instanceNorm2d } from './norm';
export type { BatchNormOptions } from './norm';
export { linear, matmul } from './linear';
export { relu, leakyRelu, sigmoid, tanh, softmax, logSoftmax } from './activation';
export { add, sub, mul, div } from './elementwise';
export { crossEntropy, mseLoss } from './loss';
export { dropout } from './dropout';
export { flatten, clone, detach, sum, mean, argmax, concat } from './shape';
export { outputSize } from './output-size';

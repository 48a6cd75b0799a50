/** Layers: thin modules that own parameters and call one op in forward (PyTorch's torch.nn). */
export { Module } from './module';
export { CompiledModule } from './compiled';
export type { Summary, SummaryRow, LoadStateDictOptions } from './module';
export type { ForwardHook, RemovableHandle } from './hooks';
export { Conv2d } from './conv';
export type { Conv2dLayerOptions } from './conv';
export { MaxPool2d, AvgPool2d, MinPool2d, GlobalAvgPool2d, GlobalMaxPool2d, AdaptiveAvgPool2d } from './pool';
export type { PoolLayerOptions } from './pool';
export { BatchNorm2d, LayerNorm, InstanceNorm2d } from './norm';
export type { BatchNorm2dOptions } from './norm';
export { ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax } from './activation';
export { Linear, Flatten, Identity } from './linear';
export { Dropout } from './dropout';
export { Sequential, Residual } from './container';
export { adaptiveAvgPool2d } from './adaptive-avg-pool';
export { receptiveField } from './receptive-field';
export type { ReceptiveFieldRow } from './receptive-field';
// The nn front end of the graph compiler (Module.compile); last: it imports the layers above.
import './lower';

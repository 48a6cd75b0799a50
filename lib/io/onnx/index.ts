/** ONNX: loadOnnx (import and run a model) and a small writer (buildOnnxModel, onnxFromStateDict). */
export { loadOnnx, parseOnnx, OnnxModel } from './model';
export type { OnnxValueInfo, LoadOnnxOptions } from './model';
export { buildOnnxModel, onnxFromStateDict } from './writer';
export { saveOnnx } from './export';
export type {
  OnnxAttr, OnnxNodeSpec, OnnxInitializer, OnnxValueSpec, BuildOnnxOptions, StateDictOnnxOptions, LeNet5OnnxOptions,
  ConvOnnxOptions,
} from './writer';

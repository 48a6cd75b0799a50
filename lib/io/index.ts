/** io: model files (safetensors; ONNX to come) and image input. */
export { saveSafetensors, loadSafetensors } from './safetensors';
export type { SaveSafetensorsOptions, HasStateDict } from './safetensors';
export { imageToTensor } from './image';
export type { ImageToTensorOptions } from './image';
// loadOnnx(pathOrBytes): Promise<OnnxModel> is exported from here by its owner (./onnx).
export { loadOnnx, parseOnnx, OnnxModel, buildOnnxModel, onnxFromStateDict } from './onnx/index';
export { saveOnnx } from './onnx/index';
export type { OnnxValueInfo, LoadOnnxOptions, OnnxNodeSpec, OnnxInitializer, OnnxValueSpec, OnnxAttr,
  BuildOnnxOptions, StateDictOnnxOptions, LeNet5OnnxOptions, ConvOnnxOptions } from './onnx/index';

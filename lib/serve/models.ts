/**
 * What `simdcnn-serve --model` names: an ONNX file, or a built-in model with seeded random weights
 * (nothing downloads). The server's main thread and every pool worker load a model through here,
 * so they all hold the same weights.
 */
import { readFileSync } from 'node:fs';
import { manualSeed } from '../random';
import { lenet5 } from '../models/lenet5';
import { resnet18 } from '../models/resnet';
import { parseOnnx, OnnxModel } from '../io/onnx/model';
import { onnxFromStateDict } from '../io/onnx/writer';
import type { Module } from '../nn/module';

/** Built-in models and the sample shape each takes. */
export const BUILTIN_MODELS: Record<string, { sampleShape: number[]; classes: number }> = {
  lenet5: { sampleShape: [1, 28, 28], classes: 10 },
  resnet18: { sampleShape: [3, 224, 224], classes: 1000 },
};

export interface ModelSourceOptions {
  /** Seed of a built-in model's random weights (default 0). */
  seed?: number;
  /** The sample shape ([C, H, W]) when an ONNX file leaves some of its input dims free. */
  inputShape?: readonly number[];
}

/** A model ready to serve, with the names and shapes the protocol reports. */
export interface Servable {
  kind: 'module' | 'onnx';
  model: Module | OnnxModel;
  inputName: string;
  outputName: string;
  /** One sample's shape, without the batch axis. */
  sampleShape: number[];
  /** The same network as ONNX bytes (for another engine, e.g. onnxruntime-node). */
  onnxBytes(): Uint8Array;
}

/**
 * Loads `source`: 'lenet5' | 'resnet18' (models.lenet5() / models.resnet18() after
 * manualSeed(seed), in eval mode) or the path of an ONNX file.
 * @example const s = loadServable('lenet5', { seed: 1 }); // s.sampleShape: [1, 28, 28]
 */
export function loadServable(source: string, opts: ModelSourceOptions = {}): Servable {
  if (typeof source !== 'string' || source.length === 0) throw new TypeError(`serve: model must be 'lenet5', 'resnet18' or the path of an .onnx file, got ${String(source)}`);
  const builtin = BUILTIN_MODELS[source];
  if (builtin) {
    manualSeed(opts.seed ?? 0);
    const model = (source === 'lenet5' ? lenet5() : resnet18()).eval();
    return {
      kind: 'module', model, inputName: 'input', outputName: 'output', sampleShape: builtin.sampleShape.slice(),
      onnxBytes: () => (source === 'lenet5'
        ? onnxFromStateDict.lenet5(model.stateDict())
        : onnxFromStateDict.resnet18(model.stateDict(), { inputSize: 224 })),
    };
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(source);
  } catch (e) {
    throw new Error(`serve: model '${source}' is neither a built-in model (${Object.keys(BUILTIN_MODELS).join(', ')}) nor a readable ONNX file: ${(e as Error).message}`);
  }
  const model = parseOnnx(bytes);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    model.dispose();
    throw new Error(`serve: '${source}' has ${model.inputs.length} inputs and ${model.outputs.length} outputs; the server serves models with one of each`);
  }
  const dims = model.inputs[0].shape;
  let sampleShape: number[];
  if (opts.inputShape) {
    sampleShape = opts.inputShape.slice();
    const bad = dims && (dims.length !== sampleShape.length + 1 ||
      dims.slice(1).some((d, i) => typeof d === 'number' && d > 0 && d !== sampleShape[i]));
    if (bad) {
      model.dispose();
      throw new Error(`serve: --input-shape [${sampleShape.join(',')}] does not fit '${source}', whose input is [${dims!.join(',')}]`);
    }
  } else {
    const rest = dims?.slice(1) ?? null;
    if (!rest || !rest.every((d): d is number => typeof d === 'number' && d > 0)) {
      model.dispose();
      throw new Error(`serve: '${source}' declares input shape ${dims ? `[${dims.join(',')}]` : '(none)'}; pass the sample shape (--input-shape C,H,W)`);
    }
    sampleShape = rest;
  }
  return {
    kind: 'onnx', model, inputName: model.inputs[0].name, outputName: model.outputs[0].name, sampleShape,
    onnxBytes: () => bytes,
  };
}

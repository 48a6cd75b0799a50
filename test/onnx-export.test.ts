/**
 * io.saveOnnx: built-in models and nets using every nn layer, exported and run by onnxruntime-node
 * and by simdcnn's own loader, against the module's exact eval forward at batch 1 and 3.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { io, nn, models, ops, tensor, rand, randn, noGrad, manualSeed, Tensor } from '../lib/index';
import type { Module } from '../lib/nn/index';
import { decodeModel } from '../lib/io/onnx/proto';

// onnxruntime-node is a devDependency: these checks are the point of the file, so it is required.
type OrtSession = { run(f: Record<string, unknown>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> };
const ort = createRequire(__filename)('onnxruntime-node') as {
  InferenceSession: { create(b: Uint8Array): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown;
};

const TOL = 1e-5;

let dir = '';
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdcnn-onnx-export-')); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** Max |got - want| over max |want|: the error relative to the output's largest magnitude. */
function relDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let d = 0, m = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  expect(m).toBeGreaterThan(0);
  return d / m;
}

/**
 * Norm layers get weights, biases and running statistics away from their 1/0 defaults (a folding
 * or broadcasting bug on them would otherwise be invisible); convolutions and dense layers keep
 * their (seeded, random) initialisation.
 */
function perturb(net: Module, seed: number): void {
  let s = seed;
  const uniform = (shape: readonly number[], lo: number, hi: number): Tensor => {
    const d = rand([...shape], { seed: s++ }).toArray();
    for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * d[i];
    return tensor(d, [...shape]);
  };
  const normal = (shape: readonly number[], sd: number): Tensor => {
    const d = randn([...shape], { seed: s++ }).toArray();
    for (let i = 0; i < d.length; i++) d[i] *= sd;
    return tensor(d, [...shape]);
  };
  const dict: Record<string, Tensor> = { ...net.stateDict() };
  for (const [p, m] of net.namedModules()) {
    const key = (k: string): string => (p ? `${p}.${k}` : k);
    if (m instanceof nn.BatchNorm2d || m instanceof nn.LayerNorm || m instanceof nn.InstanceNorm2d) {
      if (m.weight) dict[key('weight')] = uniform(m.weight.shape, 0.5, 1.5);
      if (m.bias) dict[key('bias')] = normal(m.bias.shape, 0.2);
    }
    if (m instanceof nn.BatchNorm2d) {
      dict[key('running_mean')] = normal(m.runningMean.shape, 0.3);
      dict[key('running_var')] = uniform(m.runningVar.shape, 0.5, 2);
    }
  }
  net.loadStateDict(dict);
}

/** The module's eval forward with the exact ops (no planned fast paths). */
function exactForward(net: Module, x: Tensor): { shape: number[]; data: Float32Array } {
  net.eval().setFastInference(false);
  try {
    const y = noGrad(() => net.call(x));
    return { shape: y.shape.slice(), data: y.toArray() };
  } finally {
    net.setFastInference(true);
  }
}

interface Row { model: string; batch: number; ort: number; loader: number }
const rows: Row[] = [];
afterAll(() => {
  console.log(['saveOnnx round trips, max |diff| / max |exact eval forward|:',
    ...rows.map((r) => `  ${r.model.padEnd(22)} batch ${r.batch}: onnxruntime ${r.ort.toExponential(2)}, io.loadOnnx ${r.loader.toExponential(2)}`)].join('\n'));
});

/**
 * Exports net, checks the file's structure (opset, names, dynamic batch, initializers = the state
 * dict without num_batches_tracked, byte for byte), then runs it in onnxruntime and io.loadOnnx
 * at batch 1 and 3 against the exact forward.
 */
async function roundTrip(name: string, net: Module, shape: [number, number, number, number]): Promise<Uint8Array> {
  const bytes = io.saveOnnx(net, shape);
  const model = decodeModel(bytes);
  expect(model.opsetImport).toEqual([{ domain: '', version: 13 }]);
  const g = model.graph!;
  expect(g.input).toEqual([{ name: 'input', elemType: 1, shape: ['N', ...shape.slice(1)] }]);
  expect(g.output.map((o) => o.name)).toEqual(['output']);
  expect(g.output[0].shape![0]).toBe('N');

  const sd = net.stateDict();
  const want = Object.keys(sd).filter((k) => !k.endsWith('num_batches_tracked')).sort();
  expect(g.initializer.map((t) => t.name).sort()).toEqual(want);
  for (const init of g.initializer) {
    const t = sd[init.name];
    expect(init.value.kind).toBe('float');
    expect(init.value.dims).toEqual([...t.shape]);
    const a = init.value.data as Float32Array, b = t.data;
    expect(Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(0);
  }

  const session = await ort.InferenceSession.create(bytes);
  // Direct convolutions: Winograd's own documented error (up to 1e-4) is not what is measured here.
  const loaded = await io.loadOnnx(bytes, { winograd: false });
  try {
    for (const batch of [1, 3]) {
      const x = randn([batch, ...shape.slice(1)], { seed: 1000 + batch });
      const ref = exactForward(net, x);
      const r = await session.run({ input: new ort.Tensor('float32', x.toArray(), [...x.shape]) });
      const y = r.output;
      expect(y.dims.map(Number)).toEqual(ref.shape);
      const ortDiff = relDiff(y.data, ref.data);
      const z = loaded.run(x);
      expect(z.shape).toEqual(ref.shape);
      const loaderDiff = relDiff(z.toArray(), ref.data);
      rows.push({ model: name, batch, ort: ortDiff, loader: loaderDiff });
      expect(ortDiff).toBeLessThanOrEqual(TOL);
      expect(loaderDiff).toBeLessThanOrEqual(TOL);
    }
  } finally {
    loaded.dispose();
  }
  return bytes;
}

/** The ops of the graph, in order. */
const opTypes = (bytes: Uint8Array): string[] => decodeModel(bytes).graph!.node.map((n) => n.opType);

/**
 * Every nn layer, input [N, 3, 18, 16] (H != W catches swapped axes). Sizes in the comments are
 * [C, H, W]; the pools are chosen so ceil mode adds a window (written as extra end padding), and
 * the adaptive pool mixes uneven bins (H 2 -> 3) with an even step (W 3 -> 2: bins [0,2) [1,3)).
 */
function everyLayerNet(): nn.Sequential {
  const ceil3 = { stride: 2, padding: 1, ceilMode: true } as const;
  return new nn.Sequential(
    new nn.Sequential({ conv: new nn.Conv2d(3, 8, 3, { padding: 1 }), bn: new nn.BatchNorm2d(8), act: new nn.ReLU() }), // 8x18x16
    new nn.Conv2d(8, 8, 3, { stride: 2, padding: [1, 2], dilation: 2, groups: 4, bias: false }), // 8x8x8
    new nn.InstanceNorm2d(8, { affine: true }),
    new nn.LeakyReLU(0.2),
    new nn.Residual(new nn.MaxPool2d(3, ceil3), new nn.MinPool2d(3, ceil3)), // 8x5x5
    new nn.Residual(new nn.Sequential(new nn.Conv2d(8, 8, 3, { padding: 'same' }), new nn.InstanceNorm2d(8), new nn.Tanh())),
    new nn.Residual(new nn.Sequential(new nn.Conv2d(8, 12, 1), new nn.BatchNorm2d(12, { eps: 1e-3 })), new nn.Conv2d(8, 12, 1, { bias: false })), // 12x5x5
    new nn.Sigmoid(),
    new nn.Conv2d(12, 12, 2, { padding: 1 }), // 12x6x6
    new nn.Residual(new nn.AvgPool2d(3, ceil3), new nn.AvgPool2d(3, { ...ceil3, countIncludePad: false })), // 12x4x4
    new nn.MaxPool2d(2, { stride: 1, dilation: [2, 1] }), // 12x2x3
    new nn.AdaptiveAvgPool2d([3, 2]), // 12x3x2
    new nn.LayerNorm([12, 3, 2], { eps: 1e-4 }),
    new nn.Flatten(2), // 12x6
    new nn.LayerNorm(6),
    new nn.Flatten(), // 72
    new nn.Dropout(0.3),
    new nn.Linear(72, 20),
    new nn.LeakyReLU(),
    new nn.Linear(20, 10, { bias: false }),
    new nn.Softmax(1),
  );
}

/**
 * The remaining layers and pooling cases, input [N, 3, 27, 23]: ceil-mode pools whose last
 * window would start in the end padding (PyTorch drops it: 27 -> 14, not 15), batch norm without
 * affine parameters, a dilated ceil-mode max pool, adaptive pools that are the identity, an even
 * split and an equal-bin stride (W 5 -> 2: [0,3) [2,5)), Softmax on a negative dim, both global
 * pools, Identity and LogSoftmax.
 */
function headsNet(): nn.Sequential {
  const ceil2 = { stride: 2, padding: 1, ceilMode: true } as const;
  return new nn.Sequential(
    new nn.Residual(new nn.AvgPool2d(2, ceil2), new nn.MaxPool2d(2, ceil2)), // 3x14x12
    new nn.Conv2d(3, 6, 3), // 6x12x10
    new nn.BatchNorm2d(6, { affine: false, eps: 1e-3 }),
    new nn.AdaptiveAvgPool2d([null, 10]),
    new nn.MaxPool2d(2, { stride: 2, dilation: 2, ceilMode: true }), // 6x6x5
    new nn.AdaptiveAvgPool2d([3, 2]),
    new nn.Softmax(-1),
    new nn.Residual(new nn.GlobalAvgPool2d(), new nn.GlobalMaxPool2d()), // 6x1x1
    new nn.Flatten(),
    new nn.Identity(),
    new nn.Linear(6, 5),
    new nn.LogSoftmax(1),
  );
}

describe('saveOnnx round trips (onnxruntime-node and io.loadOnnx vs the exact eval forward)', () => {
  it('lenet5, default (28x28, padded conv1, ReLU, max pool)', async () => {
    manualSeed(1);
    const bytes = await roundTrip('lenet5()', models.lenet5(), [1, 1, 28, 28]);
    expect(opTypes(bytes)).toEqual(['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
  });

  it('lenet5, classic (32x32, tanh, average pool)', async () => {
    manualSeed(2);
    const bytes = await roundTrip('lenet5(32, tanh, avg)', models.lenet5({ inputSize: 32, activation: 'tanh', pool: 'avg' }), [1, 1, 32, 32]);
    expect(opTypes(bytes).filter((o) => o === 'AveragePool' || o === 'Tanh')).toEqual(['Tanh', 'AveragePool', 'Tanh', 'AveragePool', 'Tanh', 'Tanh']);
  });

  it('alexnet at 127x127: features end at 3x3, AdaptiveAvgPool2d(6) by PyTorch bins', async () => {
    // The features need at least 63x63 (conv1 15x15 -> three 3x3/2 pools -> 1x1); 127 gives 3x3,
    // whose 6 bins overlap ([0,1) [0,1) [1,2) ...).
    manualSeed(3);
    const bytes = await roundTrip('alexnet(127px)', models.alexnet({ numClasses: 10 }), [1, 3, 127, 127]);
    expect(opTypes(bytes)).not.toContain('Dropout');
    expect(opTypes(bytes).filter((o) => o === 'Slice').length).toBe(6); // 3 distinct bins per axis
  }, 60_000);

  it('resnet18 at 64x64', async () => {
    manualSeed(4);
    const net = models.resnet18({ numClasses: 10 });
    perturb(net, 40);
    const bytes = await roundTrip('resnet18(64px)', net, [1, 3, 64, 64]);
    const o = opTypes(bytes);
    expect(o.filter((t) => t === 'BatchNormalization').length).toBe(20);
    expect(o.filter((t) => t === 'Add').length).toBe(8);
  }, 60_000);

  it('a net with every nn layer', async () => {
    manualSeed(5);
    const net = everyLayerNet();
    perturb(net, 50);
    const bytes = await roundTrip('every layer', net, [1, 3, 18, 16]);
    const o = opTypes(bytes);
    // MinPool2d is -maxPool(-x); ceil-mode average pooling that counts pads pads explicitly.
    expect(o).toContain('Neg');
    expect(o).toContain('Pad');
    expect(o.filter((t) => t === 'InstanceNormalization').length).toBe(2);
  });

  it('batch norm without affine, dilated ceil pooling, adaptive and global pools, LogSoftmax', async () => {
    manualSeed(6);
    const net = headsNet();
    perturb(net, 60);
    await roundTrip('heads', net, [1, 3, 27, 23]);
  });
});

describe('saveOnnx contract', () => {
  it('writes the file when given a path, and exports eval mode without changing the module', () => {
    manualSeed(7);
    const net = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.Dropout(0.5), new nn.Flatten(), new nn.Linear(8, 3));
    perturb(net, 70);
    const evalBytes = io.saveOnnx(net.eval(), [2, 1, 4, 4]);
    net.train();
    const before = net.stateDict()['1.running_mean'].toArray();
    const file = path.join(dir, 'net.onnx');
    const bytes = io.saveOnnx(net, [2, 1, 4, 4], file);
    // The probe forward ran in eval mode: running statistics untouched, the mode restored.
    expect(net.training).toBe(true);
    expect(net.at(1).training).toBe(true);
    expect(net.stateDict()['1.running_mean'].toArray()).toEqual(before);
    expect(Buffer.from(bytes).equals(Buffer.from(evalBytes))).toBe(true);
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(bytes))).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['net.onnx']); // no temporary file left
    expect(() => io.saveOnnx(net, [1, 1, 4, 4], path.join(dir, 'missing', 'net.onnx'))).toThrow(/saveOnnx: cannot write '.*missing.*net\.onnx'/);
  });

  it('the identity network still has an output named output', async () => {
    const bytes = io.saveOnnx(new nn.Sequential(new nn.Dropout(), new nn.Identity()), [1, 2, 3, 3]);
    expect(opTypes(bytes)).toEqual(['Identity']);
    const x = randn([3, 2, 3, 3], { seed: 9 });
    const r = await (await ort.InferenceSession.create(bytes)).run({ input: new ort.Tensor('float32', x.toArray(), [3, 2, 3, 3]) });
    expect(Array.from(r.output.data)).toEqual(Array.from(x.toArray()));
  });

  it('refuses a module class without an export rule, naming its path and class', () => {
    class Doubler extends nn.Module {
      forward(x: Tensor): Tensor { return ops.add(x, x); }
    }
    const net = new nn.Sequential({ stem: new nn.Conv2d(1, 2, 3), body: new nn.Sequential(new nn.ReLU(), new Doubler()) });
    expect(() => io.saveOnnx(net, [1, 1, 8, 8])).toThrow(/saveOnnx: module 'body\.1' \(Doubler\) has no ONNX export rule; exportable: Sequential, Residual, Conv2d/);
    expect(() => io.saveOnnx(new Doubler(), [1, 1, 8, 8])).toThrow(/module '\(root\)' \(Doubler\) has no ONNX export rule/);
    // A subclass of a known layer that redefines forward computes something else: refused too.
    class ReluSeq extends nn.Sequential {
      override forward(x: Tensor): Tensor { return ops.relu(super.forward(x)); }
    }
    expect(() => io.saveOnnx(new nn.Sequential({ head: new ReluSeq(new nn.Conv2d(1, 2, 3)) }), [1, 1, 8, 8]))
      .toThrow(/module 'head' \(ReluSeq\) has no ONNX export rule \(it extends Sequential but defines its own forward\)/);
    // A subclass that keeps forward exports by its base class's rule.
    class NamedConv extends nn.Conv2d {}
    expect(opTypes(io.saveOnnx(new NamedConv(1, 2, 3), [1, 1, 8, 8]))).toEqual(['Conv']);
  });

  it('validates its arguments', () => {
    const net = models.lenet5();
    expect(() => io.saveOnnx({} as Module, [1, 1, 28, 28])).toThrow(TypeError);
    expect(() => io.saveOnnx({} as Module, [1, 1, 28, 28])).toThrow(/saveOnnx: module must be an nn Module, got Object/);
    expect(() => io.saveOnnx(net, '1,1,28,28' as unknown as number[])).toThrow(/saveOnnx: inputShape must be an array \[N, C, H, W\] of positive integers, got '1,1,28,28'/);
    expect(() => io.saveOnnx(net, [1, 28, 28])).toThrow(RangeError);
    expect(() => io.saveOnnx(net, [1, 28, 28])).toThrow(/saveOnnx: inputShape must be \[N, C, H, W\] of 4 positive integers, got \[1,28,28\]/);
    expect(() => io.saveOnnx(net, [0, 1, 28, 28])).toThrow(/got \[0,1,28,28\]/);
    expect(() => io.saveOnnx(net, [1, 1, 28.5, 28])).toThrow(/got \[1,1,28\.5,28\]/);
    expect(() => io.saveOnnx(net, [1, 1, 28, 28], 5 as unknown as string)).toThrow(/saveOnnx: path must be a non-empty string when given, got 5/);
  });

  it('names the module whose forward rejects the shape', () => {
    // 20x20 digits leave 16x3x3 features for LeNet-5's Linear(400, 120).
    expect(() => io.saveOnnx(models.lenet5(), [1, 1, 20, 20])).toThrow(RangeError);
    expect(() => io.saveOnnx(models.lenet5(), [1, 1, 20, 20])).toThrow(/saveOnnx: module 'classifier\.0' \(Linear\) failed on input shape \[1,144\]: /);
    expect(() => io.saveOnnx(models.lenet5(), [1, 3, 28, 28])).toThrow(/module 'features\.0' \(Conv2d\) failed on input shape \[1,3,28,28\]/);
    // A LayerNorm over the batch axis too would fix the batch size the file declares dynamic.
    const overBatch = new nn.Sequential(new nn.Flatten(), new nn.LayerNorm([2, 12]));
    expect(() => io.saveOnnx(overBatch, [2, 3, 2, 2])).toThrow(/module '1' \(LayerNorm\) normalizes over the batch axis too \(normalizedShape \[2,12\] on input shape \[2,12\]\)/);
  });
});

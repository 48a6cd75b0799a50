/**
 * The nn front end of the graph compiler: a module tree described as a graph (lib/graph/ir.ts),
 * the way io/onnx describes a file. Every built-in layer and model lowers to graph nodes whose
 * constants are the module's own parameter and buffer tensors (by reference: nothing is copied
 * until a pass folds them); a module of a class it does not know makes the tree unlowerable
 * (Module.compile then records the module's forward instead).
 *
 * Each node's exact kernel is the op the layer's eval-mode forward runs, so the graph's exact
 * semantics are the module's.
 */
import type { Tensor } from '../tensor';
import * as ops from '../ops/index';
import { adaptiveAvgPool2d } from './adaptive-avg-pool';
import type { Act, ExactKernel, Graph, GraphOp } from '../graph/ir';
import type { Module } from './module';
import { Sequential, Residual } from './container';
import { Conv2d } from './conv';
import { BatchNorm2d } from './norm';
import { Linear, Flatten, Identity } from './linear';
import { ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax } from './activation';
import { MaxPool2d, AvgPool2d, GlobalAvgPool2d, AdaptiveAvgPool2d } from './pool';
import { Dropout } from './dropout';
import { BasicBlock, ResNet } from '../models/resnet';
import { LeNet5 } from '../models/lenet5';
import { AlexNet } from '../models/alexnet';
import { registerModuleLowering } from './planned';

class Lowering {
  readonly graph: Graph = { nodes: [], inputs: ['input'], outputs: [], constants: new Map() };
  private readonly names = new Map<Tensor, string>();
  private uid = 0;

  constructor(private readonly paths: Map<Module, string>) {}

  path(m: Module): string {
    return this.paths.get(m) ?? '?';
  }

  /** The value name of a parameter or buffer (its state-dict key when it has one). */
  constant(t: Tensor | null, key: string): string {
    if (!t) return '';
    let name = this.names.get(t);
    if (!name) {
      name = key;
      this.names.set(t, name);
      this.graph.constants.set(name, t);
    }
    return name;
  }

  node(m: Module, what: string, op: GraphOp, inputs: string[], exact: ExactKernel): string {
    const out = `${this.path(m) || 'model'}:${what}#${this.uid++}`;
    this.graph.nodes.push({ label: `module '${this.path(m)}' (${m.constructor.name}${what ? ` ${what}` : ''})`, op, inputs, outputs: [out], exact });
    return out;
  }
}

const act = (kind: Act['kind'], alpha = 0): GraphOp => ({ kind: 'act', act: { kind, alpha, beta: 0 } });

/** Lowers m applied to value x; null when some module in it has no lowering. */
function lower(L: Lowering, m: Module, x: string): string | null {
  const key = (k: string): string => (L.path(m) ? `${L.path(m)}.${k}` : k);
  if (m instanceof Sequential) {
    let y: string | null = x;
    for (const c of m.children()) {
      y = lower(L, c, y);
      if (y === null) return null;
    }
    return y;
  }
  if (m instanceof Conv2d) {
    const o = { stride: m.stride, padding: m.padding4, dilation: m.dilation, groups: m.groups };
    return L.node(m, '', {
      kind: 'conv', strides: [...m.stride], dilations: [...m.dilation], groups: m.groups, pads: [...m.padding4],
      autoPad: 'NOTSET', act: null, residual: -1, winograd: m.winograd, pack: m.packWeights,
    }, [x, L.constant(m.weight, key('weight')), L.constant(m.bias, key('bias'))],
    ([xi, w, b]) => [ops.conv2d(xi!, w!, b, o)]);
  }
  if (m instanceof BatchNorm2d) {
    const ins = [x, L.constant(m.weight, key('weight')), L.constant(m.bias, key('bias')),
      L.constant(m.runningMean, key('running_mean')), L.constant(m.runningVar, key('running_var'))];
    // Without affine parameters the folding pass needs ones and zeros: the exact kernel passes null.
    if (!m.weight || !m.bias) return null;
    return L.node(m, '', { kind: 'batchNorm', eps: m.eps }, ins,
      ([xi, s, b, mean, v]) => [ops.batchNorm2d(xi!, { runningMean: mean!, runningVar: v!, weight: s, bias: b, eps: m.eps })]);
  }
  if (m instanceof Linear) {
    return L.node(m, '', { kind: 'dense', act: null, pack: m.packWeights },
      [x, L.constant(m.weight, key('weight')), L.constant(m.bias, key('bias'))], ([xi, w, b]) => [ops.linear(xi!, w!, b)]);
  }
  if (m instanceof ReLU) return L.node(m, '', act('relu'), [x], ([xi]) => [ops.relu(xi!)]);
  if (m instanceof LeakyReLU) return L.node(m, '', act('leakyRelu', m.negativeSlope), [x], ([xi]) => [ops.leakyRelu(xi!, m.negativeSlope)]);
  if (m instanceof Sigmoid) return L.node(m, '', act('sigmoid'), [x], ([xi]) => [ops.sigmoid(xi!)]);
  if (m instanceof Tanh) return L.node(m, '', act('tanh'), [x], ([xi]) => [ops.tanh(xi!)]);
  if (m instanceof Softmax || m instanceof LogSoftmax) {
    const log = m instanceof LogSoftmax;
    const dim = m.dim;
    return L.node(m, '', { kind: 'softmax', axis: dim, log, legacy: false }, [x],
      ([xi]) => [log ? ops.logSoftmax(xi!, dim) : ops.softmax(xi!, dim)]);
  }
  if (m instanceof MaxPool2d || m instanceof AvgPool2d) {
    const max = m instanceof MaxPool2d;
    const [pH, pW] = m.padding;
    const includePad = m instanceof AvgPool2d ? m.countIncludePad : true;
    const o = { kernelSize: m.kernelSize, stride: m.stride, padding: m.padding, ceilMode: m.ceilMode, ...(max ? { dilation: m.dilation } : {}) };
    return L.node(m, '', {
      kind: 'pool', mode: max ? 'max' : 'avg', k: [...m.kernelSize], s: [...m.stride], d: max ? [...m.dilation] : [1, 1],
      pads: [pH, pW, pH, pW], autoPad: 'NOTSET', ceil: m.ceilMode, includePad,
    }, [x], ([xi]) => [max ? ops.maxPool2d(xi!, o) : ops.avgPool2d(xi!, { ...o, countIncludePad: includePad })]);
  }
  if (m instanceof GlobalAvgPool2d) return L.node(m, '', { kind: 'globalPool', mode: 'avg' }, [x], ([xi]) => [ops.globalAvgPool2d(xi!)]);
  if (m instanceof AdaptiveAvgPool2d) {
    return L.node(m, '', { kind: 'adaptiveAvgPool', size: m.outputSize }, [x], ([xi]) => [adaptiveAvgPool2d(xi!, m.resolve(xi!.shape[2], xi!.shape[3]))]);
  }
  if (m instanceof Flatten) return flatten(L, m, x, m.startDim);
  if (m instanceof Dropout || m instanceof Identity) {
    // Eval mode: the input itself.
    return L.node(m, '', { kind: 'view', shape: (s) => s.slice() }, [x], ([xi]) => [xi!.reshape(xi!.shape)]);
  }
  if (m instanceof Residual) {
    const body = lower(L, m.body, x);
    const short = m.shortcut ? lower(L, m.shortcut, x) : x;
    if (body === null || short === null) return null;
    return L.node(m, 'add', { kind: 'binary', op: 'add' }, [body, short], ([a, b]) => [ops.add(a!, b!)]);
  }
  if (m instanceof BasicBlock) {
    let h = lower(L, m.conv1, x);
    h = h && lower(L, m.bn1, h);
    h = h && lower(L, m.relu, h);
    h = h && lower(L, m.conv2, h);
    h = h && lower(L, m.bn2, h);
    const identity = m.downsample ? lower(L, m.downsample, x) : x;
    if (h === null || identity === null) return null;
    const sum = L.node(m, 'add', { kind: 'binary', op: 'add' }, [h, identity], ([a, b]) => [ops.add(a!, b!)]);
    return lower(L, m.relu, sum);
  }
  if (m instanceof ResNet) {
    let y: string | null = x;
    for (const c of [m.conv1, m.bn1, m.relu, m.maxpool, m.layer1, m.layer2, m.layer3, m.layer4, m.avgpool]) {
      y = y && lower(L, c, y);
    }
    y = y && flatten(L, m, y, 1);
    return y && lower(L, m.fc, y);
  }
  if (m instanceof LeNet5) {
    let y = lower(L, m.features, x);
    y = y && flatten(L, m, y, 1);
    return y && lower(L, m.classifier, y);
  }
  if (m instanceof AlexNet) {
    let y = lower(L, m.features, x);
    y = y && lower(L, m.avgpool, y);
    y = y && flatten(L, m, y, 1);
    return y && lower(L, m.classifier, y);
  }
  return null;
}

function flatten(L: Lowering, m: Module, x: string, startDim: number): string {
  const shape = (s: readonly number[]): number[] => {
    const d = startDim < 0 ? startDim + s.length : startDim;
    if (d < 0 || d >= s.length) throw new RangeError(`flatten: startDim ${startDim} is out of range for shape [${s.join(',')}]`);
    return [...s.slice(0, d), s.slice(d).reduce((a, b) => a * b, 1)];
  };
  return L.node(m, 'flatten', { kind: 'view', shape }, [x], ([xi]) => [ops.flatten(xi!, startDim)]);
}

/**
 * The module tree as a graph with one input ('input') and one output, or null when a module in it
 * has no lowering. The graph's constants are the module's own tensors.
 */
export function lowerModule(m: Module): Graph | null {
  return lowerChain(m, [m]);
}

/**
 * Modules applied one after another (a run of a Sequential's children), named by their paths in
 * root, as one graph; null when one of them has no lowering.
 */
export function lowerChain(root: Module, chain: readonly Module[]): Graph | null {
  const L = new Lowering(new Map(root.namedModules().map(([p, mod]) => [mod, p])));
  let y: string | null = 'input';
  for (const m of chain) {
    y = lower(L, m, y);
    if (y === null) return null;
  }
  L.graph.outputs = [y];
  return L.graph;
}

registerModuleLowering(lowerModule, lowerChain);

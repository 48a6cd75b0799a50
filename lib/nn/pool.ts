import { Tensor } from '../tensor';
import { globalAvgPool2d, globalMaxPool2d, poolGeom, poolWithGeom } from '../ops/pool';
import type { PoolGeom, PoolMode } from '../backend/types';
import { assertTensor } from '../ops/validate';
import { Module } from './module';
import { adaptiveAvgPool2d } from './adaptive-avg-pool';
import { boolOpt, options, pair, posInt } from './args';
import { describe } from '../errors';

export interface PoolLayerOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  ceilMode?: boolean;
}

/** Shared geometry of the windowed pooling layers (stride defaults to the kernel size). */
abstract class Pool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly ceilMode: boolean;

  constructor(layer: string, kernelSize: number | [number, number], opts: PoolLayerOptions & { dilation?: number | [number, number] }) {
    super();
    const o = options(layer, opts);
    this.kernelSize = pair(layer, 'kernelSize', kernelSize, 1);
    this.stride = pair(layer, 'stride', o.stride ?? this.kernelSize, 1);
    this.padding = pair(layer, 'padding', o.padding ?? 0, 0);
    this.dilation = pair(layer, 'dilation', o.dilation ?? 1, 1);
    this.ceilMode = boolOpt(layer, 'ceilMode', o.ceilMode, false);
    if (2 * this.padding[0] > this.kernelSize[0] || 2 * this.padding[1] > this.kernelSize[1]) {
      throw new RangeError(`${layer}: 'padding' [${this.padding}] must be at most half the kernel [${this.kernelSize}]`);
    }
  }

  // The geometry of the last input shape: the options are fixed, so it is validated once per shape.
  private memo: { g: PoolGeom; outShape: readonly number[] } | null = null;

  /** Pools x with the layer's options (op names the functional form in error messages). */
  protected poolAs(op: string, mode: PoolMode, x: Tensor, countIncludePad: boolean): Tensor {
    assertTensor(op, 'x', x);
    const m = this.memo, s = x.shape;
    if (m && s.length === 4 && m.g.N === s[0] && m.g.C === s[1] && m.g.H === s[2] && m.g.W === s[3]) {
      return poolWithGeom(op, mode, x, m.g, countIncludePad, m.outShape);
    }
    const g = poolGeom(op, x, { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding,
      dilation: this.dilation, ceilMode: this.ceilMode }, mode === 'max');
    const outShape = Object.freeze([g.N, g.C, g.OH, g.OW]);
    this.memo = { g, outShape };
    return poolWithGeom(op, mode, x, g, countIncludePad, outShape);
  }

  protected override extraRepr(): string {
    const parts = [`kernelSize=[${this.kernelSize}]`, `stride=[${this.stride}]`];
    if (this.padding.some((p) => p !== 0)) parts.push(`padding=[${this.padding}]`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=[${this.dilation}]`);
    if (this.ceilMode) parts.push('ceilMode=true');
    return parts.join(', ');
  }
}

/** Max pooling. @example new nn.MaxPool2d(3, { stride: 2, padding: 1 }) */
export class MaxPool2d extends Pool2d {
  constructor(kernelSize: number | [number, number], opts: PoolLayerOptions & { dilation?: number | [number, number] } = {}) {
    super('MaxPool2d', kernelSize, opts);
  }
  forward(x: Tensor): Tensor {
    return this.poolAs('maxPool2d', 'max', x, true);
  }
}

/** Average pooling; countIncludePad (default true) counts zero padding in the divisor. */
export class AvgPool2d extends Pool2d {
  readonly countIncludePad: boolean;
  constructor(kernelSize: number | [number, number], opts: PoolLayerOptions & { countIncludePad?: boolean } = {}) {
    super('AvgPool2d', kernelSize, { ...opts, dilation: undefined });
    this.countIncludePad = boolOpt('AvgPool2d', 'countIncludePad', options('AvgPool2d', opts).countIncludePad, true);
  }
  forward(x: Tensor): Tensor {
    return this.poolAs('avgPool2d', 'avg', x, this.countIncludePad);
  }
}

/** Min pooling (= -maxPool(-x)); taught by the seeds, not in PyTorch. */
export class MinPool2d extends Pool2d {
  constructor(kernelSize: number | [number, number], opts: PoolLayerOptions = {}) {
    super('MinPool2d', kernelSize, { ...opts, dilation: undefined });
  }
  forward(x: Tensor): Tensor {
    return this.poolAs('minPool2d', 'min', x, true);
  }
}

/** Mean over H and W: [N, C, H, W] -> [N, C, 1, 1]. */
export class GlobalAvgPool2d extends Module {
  forward(x: Tensor): Tensor { return globalAvgPool2d(x); }
}

/** Max over H and W: [N, C, H, W] -> [N, C, 1, 1]. */
export class GlobalMaxPool2d extends Module {
  forward(x: Tensor): Tensor { return globalMaxPool2d(x); }
}

/**
 * Adaptive average pooling to a fixed output size with PyTorch's bin rule; `outputSize` is a
 * number, or [h, w] where null keeps that input dimension.
 * @example new nn.AdaptiveAvgPool2d(6) // AlexNet's avgpool; new nn.AdaptiveAvgPool2d(1) // global
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: [number | null, number | null];
  constructor(outputSize: number | [number | null, number | null]) {
    super();
    const L = 'AdaptiveAvgPool2d';
    if (Array.isArray(outputSize)) {
      if (outputSize.length !== 2) throw new RangeError(`${L}: 'outputSize' must be a number or [h, w], got an array of length ${outputSize.length}`);
      this.outputSize = [
        outputSize[0] === null ? null : posInt(L, 'outputSize[0]', outputSize[0]),
        outputSize[1] === null ? null : posInt(L, 'outputSize[1]', outputSize[1]),
      ];
    } else if (typeof outputSize === 'number') {
      const s = posInt(L, 'outputSize', outputSize);
      this.outputSize = [s, s];
    } else {
      throw new TypeError(`${L}: 'outputSize' must be a number or [h, w], got ${describe(outputSize)}`);
    }
  }
  /** The concrete [outH, outW] for an input of spatial size [H, W]. */
  resolve(H: number, W: number): [number, number] {
    return [this.outputSize[0] ?? H, this.outputSize[1] ?? W];
  }
  forward(x: Tensor): Tensor {
    const ok = x instanceof Tensor && !x.disposed && x.rank === 4;
    const H = ok ? x.shape[2] : 1, W = ok ? x.shape[3] : 1;
    return adaptiveAvgPool2d(x, this.resolve(H, W));
  }
  protected override extraRepr(): string { return `outputSize=[${this.outputSize}]`; }
}

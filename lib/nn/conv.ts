import { Tensor } from '../tensor';
import { conv2d, convPadding, type Padding } from '../ops/conv2d';
import { Module } from './module';
import { plannedForward } from './planned';
import { uniform } from './init';
import { boolOpt, options, pair, posInt } from './args';

export interface Conv2dLayerOptions {
  stride?: number | [number, number];
  padding?: Padding;
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
}

/**
 * 2-D convolution layer: weight [outC, inC/groups, kH, kW], bias [outC]; PyTorch's default init
 * U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with fanIn = inC/groups * kH * kW.
 * @example const conv = new nn.Conv2d(3, 16, 3, { padding: 1 }); const y = conv.call(x);
 */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: Padding;
  /** Padding as [top, left, bottom, right]. */
  readonly padding4: [number, number, number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], opts: Conv2dLayerOptions = {}) {
    super();
    const L = 'Conv2d';
    const o = options(L, opts);
    this.inChannels = posInt(L, 'inChannels', inChannels);
    this.outChannels = posInt(L, 'outChannels', outChannels);
    this.kernelSize = pair(L, 'kernelSize', kernelSize, 1);
    this.stride = pair(L, 'stride', o.stride ?? 1, 1);
    this.dilation = pair(L, 'dilation', o.dilation ?? 1, 1);
    this.groups = posInt(L, 'groups', o.groups ?? 1);
    if (this.inChannels % this.groups !== 0 || this.outChannels % this.groups !== 0) {
      throw new RangeError(`${L}: groups ${this.groups} must divide inChannels ${this.inChannels} and outChannels ${this.outChannels}`);
    }
    this.padding = (o.padding ?? 0) as Padding;
    const [kH, kW] = this.kernelSize;
    this.padding4 = convPadding(L, this.padding, kH, kW, this.dilation[0], this.dilation[1], this.stride[0], this.stride[1]);
    const fanIn = (this.inChannels / this.groups) * kH * kW;
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = this.param('weight', uniform([this.outChannels, this.inChannels / this.groups, kH, kW], bound));
    this.bias = boolOpt(L, 'bias', o.bias, true) ? this.param('bias', uniform([this.outChannels], bound)) : this.noParam('bias');
  }

  forward(x: Tensor): Tensor {
    return plannedForward(this, x, () =>
      conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups }));
  }

  protected override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}]`, `stride=[${this.stride}]`];
    if (this.padding4.some((p) => p !== 0)) parts.push(`padding=${JSON.stringify(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=[${this.dilation}]`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=false');
    return parts.join(', ');
  }
}

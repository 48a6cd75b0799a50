import { Tensor, ones, zeros, assertNotCapturing } from '../tensor';
import { backend } from '../backend/index';
import { batchNorm2d, instanceNorm2d, layerNorm } from '../ops/norm';
import { Module } from './module';
import { boolOpt, numOpt, options, posInt } from './args';
import { describe } from '../errors';

const ONE = new Float32Array([1]);

export interface BatchNorm2dOptions {
  eps?: number;
  /** Running-statistics momentum (default 0.1); null: cumulative average, as PyTorch's None. */
  momentum?: number | null;
  /** Learnable weight and bias (default true). */
  affine?: boolean;
}

/**
 * Batch normalisation over (N, H, W) per channel. Training mode normalises with batch statistics,
 * updates running_mean / running_var (unbiased variance) and counts num_batches_tracked; eval mode
 * uses the running statistics. State-dict keys: weight, bias, running_mean, running_var,
 * num_batches_tracked (a float32 scalar holding the count).
 * @example const bn = new nn.BatchNorm2d(64); bn.eval();
 */
export class BatchNorm2d extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  weight: Tensor | null;
  bias: Tensor | null;
  runningMean: Tensor;
  runningVar: Tensor;
  numBatchesTracked: Tensor;

  constructor(numFeatures: number, opts: BatchNorm2dOptions = {}) {
    super();
    const L = 'BatchNorm2d';
    const o = options(L, opts);
    this.numFeatures = posInt(L, 'numFeatures', numFeatures);
    this.eps = numOpt(L, 'eps', o.eps, 1e-5, 0);
    this.momentum = o.momentum === null ? null : numOpt(L, 'momentum', o.momentum, 0.1, 0, 1);
    const affine = boolOpt(L, 'affine', o.affine, true);
    const C = this.numFeatures;
    this.weight = affine ? this.param('weight', ones([C])) : this.noParam('weight');
    this.bias = affine ? this.param('bias', zeros([C])) : this.noParam('bias');
    this.runningMean = this.buffer('running_mean', 'runningMean', zeros([C]));
    this.runningVar = this.buffer('running_var', 'runningVar', ones([C]));
    this.numBatchesTracked = this.buffer('num_batches_tracked', 'numBatchesTracked', zeros([]));
  }

  forward(x: Tensor): Tensor {
    const count = this.numBatchesTracked.data;
    // The cumulative average's momentum changes every step: a recorded training step would replay
    // the first one's.
    if (this.training && this.momentum === null) assertNotCapturing('BatchNorm2d with momentum null (a cumulative average)');
    const momentum = this.momentum ?? 1 / (count[0] + 1);
    const y = batchNorm2d(x, {
      runningMean: this.runningMean, runningVar: this.runningVar, weight: this.weight, bias: this.bias,
      training: this.training, momentum, eps: this.eps,
    });
    // Counted by a kernel, not in JS, so that a recorded training step counts its replays too.
    if (this.training) backend().accumulate(count, ONE);
    return y;
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.weight !== null}`;
  }
}

/**
 * Layer normalisation over the trailing `normalizedShape` dims of each sample (e.g. [C, H, W]),
 * with elementwise weight (ones) and bias (zeros) of that shape.
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  weight: Tensor | null;
  bias: Tensor | null;

  constructor(normalizedShape: number | number[], opts: { eps?: number; elementwiseAffine?: boolean } = {}) {
    super();
    const L = 'LayerNorm';
    const o = options(L, opts);
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    if (!Array.isArray(shape) || shape.length === 0) {
      throw new TypeError(`${L}: 'normalizedShape' must be a positive integer or a non-empty array of them, got ${describe(normalizedShape)}`);
    }
    this.normalizedShape = shape.map((d, i) => posInt(L, `normalizedShape[${i}]`, d));
    this.eps = numOpt(L, 'eps', o.eps, 1e-5, 0);
    const affine = boolOpt(L, 'elementwiseAffine', o.elementwiseAffine, true);
    this.weight = affine ? this.param('weight', ones(this.normalizedShape)) : this.noParam('weight');
    this.bias = affine ? this.param('bias', zeros(this.normalizedShape)) : this.noParam('bias');
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  protected override extraRepr(): string { return `[${this.normalizedShape}], eps=${this.eps}`; }
}

/**
 * Instance normalisation: each (n, c) plane over H x W; `affine` (default false, as PyTorch) adds
 * a per-channel weight and bias. No running statistics (PyTorch's track_running_stats=False).
 */
export class InstanceNorm2d extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  weight: Tensor | null;
  bias: Tensor | null;

  constructor(numFeatures: number, opts: { eps?: number; affine?: boolean } = {}) {
    super();
    const L = 'InstanceNorm2d';
    const o = options(L, opts);
    this.numFeatures = posInt(L, 'numFeatures', numFeatures);
    this.eps = numOpt(L, 'eps', o.eps, 1e-5, 0);
    const affine = boolOpt(L, 'affine', o.affine, false);
    this.weight = affine ? this.param('weight', ones([this.numFeatures])) : this.noParam('weight');
    this.bias = affine ? this.param('bias', zeros([this.numFeatures])) : this.noParam('bias');
  }

  forward(x: Tensor): Tensor {
    if (x instanceof Tensor && !x.disposed && x.rank === 4 && x.shape[1] !== this.numFeatures) {
      throw new RangeError(`InstanceNorm2d: expected ${this.numFeatures} channels, got input shape [${x.shape}]`);
    }
    return instanceNorm2d(x, this.weight, this.bias, this.eps);
  }

  protected override extraRepr(): string { return `${this.numFeatures}, eps=${this.eps}, affine=${this.weight !== null}`; }
}

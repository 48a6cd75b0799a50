/**
 * The benchmark workloads: a simdcnn model built under manualSeed (its state dict is the one set
 * of weights every engine gets), the per-image input shape, a FLOP count from the structure and
 * the tolerance of the output check against simdcnn native.
 */
import { Tensor, models, nn, manualSeed, rand, noGrad } from '../lib/index';

export type WorkloadName = 'conv3x3' | 'lenet5' | 'resnet18' | 'alexnet';

export interface Workload {
  name: WorkloadName;
  /** Per-image input shape [C, H, W] (NCHW without the batch). */
  input: [number, number, number];
  /** A fresh simdcnn module (eval mode) with this workload's deterministic weights. */
  model(): nn.Module;
  /** Direct-convolution + linear FLOPs (2 * MACs) for one image. */
  flopsPerImage: number;
  /** Output check: max |diff| <= tol * max |ref|. */
  tol: number;
  /** Seconds per image on the slow engines (simdcnn js, tfjs cpu); --quick skips tfjs cpu at batch 8. */
  heavy: boolean;
}

/** A single Module around one Conv2d, so the state dict keys are 'weight' and 'bias'. */
function convModel(): nn.Module {
  return new nn.Conv2d(64, 64, 3, { padding: 1 });
}

/**
 * Batch norms come out of the constructors as the identity (weight 1, bias 0, mean 0, var 1);
 * random running statistics make the check cover the real arithmetic of every engine.
 */
function randomizeBatchNorms(m: nn.Module, seed: number): void {
  const sd = m.stateDict();
  let s = seed;
  for (const [k, t] of Object.entries(sd)) {
    if (!/(^|\.)(bn\d|downsample\.1)\./.test(k)) continue;
    const u = noGrad(() => rand(t.shape, { seed: s++ }));
    const d = t.data, r = u.data;
    for (let i = 0; i < d.length; i++) {
      if (k.endsWith('.weight')) d[i] = 0.5 + r[i];
      else if (k.endsWith('.bias')) d[i] = 0.2 * (r[i] - 0.5);
      else if (k.endsWith('.running_mean')) d[i] = 0.2 * (r[i] - 0.5);
      else if (k.endsWith('.running_var')) d[i] = 0.5 + 1.5 * r[i];
    }
    u.dispose();
  }
}

// ---- FLOP counting: walk the layer shapes ------------------------------------------------------

class FlopCounter {
  flops = 0;
  constructor(public c: number, public h: number, public w: number) {}
  conv(cout: number, k: number, s = 1, p = 0): this {
    const oh = Math.floor((this.h + 2 * p - k) / s) + 1, ow = Math.floor((this.w + 2 * p - k) / s) + 1;
    this.flops += 2 * cout * this.c * k * k * oh * ow;
    this.c = cout; this.h = oh; this.w = ow;
    return this;
  }
  /** A conv from the current input without moving the cursor (a shortcut branch). */
  branchConv(cout: number, k: number, s: number, p: number): this {
    const { c, h, w } = this;
    this.conv(cout, k, s, p);
    this.c = c; this.h = h; this.w = w;
    return this;
  }
  pool(k: number, s: number, p = 0): this {
    this.h = Math.floor((this.h + 2 * p - k) / s) + 1; this.w = Math.floor((this.w + 2 * p - k) / s) + 1;
    return this;
  }
  linear(inF: number, outF: number): this {
    this.flops += 2 * inF * outF;
    return this;
  }
}

function resnet18Flops(size: number): number {
  const f = new FlopCounter(3, size, size).conv(64, 7, 2, 3).pool(3, 2, 1);
  const planes = [64, 128, 256, 512];
  for (let l = 0; l < 4; l++) {
    for (let b = 0; b < 2; b++) {
      const stride = l > 0 && b === 0 ? 2 : 1;
      if (stride !== 1 || f.c !== planes[l]) f.branchConv(planes[l], 1, stride, 0);
      f.conv(planes[l], 3, stride, 1).conv(planes[l], 3, 1, 1);
    }
  }
  return f.linear(512, 1000).flops;
}

function alexnetFlops(): number {
  const f = new FlopCounter(3, 224, 224).conv(64, 11, 4, 2).pool(3, 2).conv(192, 5, 1, 2).pool(3, 2)
    .conv(384, 3, 1, 1).conv(256, 3, 1, 1).conv(256, 3, 1, 1).pool(3, 2);
  return f.linear(256 * 6 * 6, 4096).linear(4096, 4096).linear(4096, 1000).flops;
}

function lenet5Flops(): number {
  const f = new FlopCounter(1, 28, 28).conv(6, 5, 1, 2).pool(2, 2).conv(16, 5).pool(2, 2);
  return f.linear(16 * 5 * 5, 120).linear(120, 84).linear(84, 10).flops;
}

const SEED = 1234;

function seeded(build: () => nn.Module): () => nn.Module {
  return () => {
    manualSeed(SEED);
    const m = build();
    randomizeBatchNorms(m, SEED + 1);
    return m.eval();
  };
}

export const WORKLOADS: Workload[] = [
  { name: 'conv3x3', input: [64, 56, 56], model: seeded(convModel), flopsPerImage: new FlopCounter(64, 56, 56).conv(64, 3, 1, 1).flops, tol: 1e-4, heavy: false },
  { name: 'lenet5', input: [1, 28, 28], model: seeded(() => models.lenet5()), flopsPerImage: lenet5Flops(), tol: 1e-4, heavy: false },
  { name: 'resnet18', input: [3, 224, 224], model: seeded(() => models.resnet18()), flopsPerImage: resnet18Flops(224), tol: 1e-3, heavy: true },
  { name: 'alexnet', input: [3, 224, 224], model: seeded(() => models.alexnet()), flopsPerImage: alexnetFlops(), tol: 1e-3, heavy: true },
];

/** The deterministic input batch [N, C, H, W] of a workload, NCHW. */
export function inputFor(w: Workload, batch: number): Float32Array {
  const t: Tensor = noGrad(() => rand([batch, ...w.input], { seed: 99 }));
  const out = t.toArray();
  t.dispose();
  // Centered inputs (the usual normalised-image range).
  for (let i = 0; i < out.length; i++) out[i] = 2 * out[i] - 1;
  return out;
}

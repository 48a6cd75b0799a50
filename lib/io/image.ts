import { Tensor } from '../tensor';
import { describe } from '../errors';

export interface ImageToTensorOptions {
  height: number;
  width: number;
  channels: number;
  /** 'hwc': interleaved pixels, as image decoders return them (default); 'chw': planar. */
  layout?: 'hwc' | 'chw';
  /** Per-channel mean subtracted after scaling to [0, 1] (one number applies to every channel). */
  mean?: number | ArrayLike<number>;
  /** Per-channel standard deviation divided by after subtracting the mean. */
  std?: number | ArrayLike<number>;
}

/**
 * Turns 8-bit pixels into a `[1, C, H, W]` float32 tensor: `v = p / 255`, then
 * `(v - mean[c]) / std[c]` when given. Each step is rounded to float32 as torchvision's
 * `ToTensor()` + `Normalize(mean, std)` do, so the values match theirs bit for bit.
 * @example
 * const x = io.imageToTensor(rgb, { height: 224, width: 224, channels: 3,
 *   mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
 */
export function imageToTensor(pixels: Uint8Array | Uint8ClampedArray, options: ImageToTensorOptions): Tensor {
  const op = 'imageToTensor';
  if (!(pixels instanceof Uint8Array) && !(pixels instanceof Uint8ClampedArray)) {
    throw new TypeError(`${op}: pixels must be a Uint8Array, got ${describe(pixels)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${op}: options must be an object { height, width, channels }, got ${describe(options)}`);
  }
  const { height, width, channels } = options;
  const layout = options.layout ?? 'hwc';
  for (const [name, v] of [['height', height], ['width', width], ['channels', channels]] as const) {
    if (typeof v !== 'number') throw new TypeError(`${op}: options.${name} must be a number, got ${describe(v)}`);
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${op}: options.${name} must be a positive integer, got ${v}`);
  }
  if (layout !== 'hwc' && layout !== 'chw') {
    throw new RangeError(`${op}: options.layout must be 'hwc' or 'chw', got ${describe(layout)}`);
  }
  const plane = height * width;
  const n = plane * channels;
  if (n > 2 ** 31 - 1) throw new RangeError(`${op}: ${height}x${width}x${channels} has more than 2^31-1 elements`);
  if (pixels.length !== n) {
    throw new RangeError(`${op}: pixels has ${pixels.length} elements but height*width*channels = ${height}*${width}*${channels} = ${n}`);
  }
  const mean = perChannel(op, 'mean', options.mean, channels, 0);
  const std = perChannel(op, 'std', options.std, channels, 1);
  for (let c = 0; c < channels; c++) {
    if (std[c] === 0 || !Number.isFinite(std[c])) throw new RangeError(`${op}: options.std[${c}] must be finite and non-zero, got ${std[c]}`);
    if (!Number.isFinite(mean[c])) throw new RangeError(`${op}: options.mean[${c}] must be finite, got ${mean[c]}`);
  }
  const normalise = options.mean !== undefined || options.std !== undefined;

  const out = new Float32Array(n);
  for (let c = 0; c < channels; c++) {
    // Per-channel lookup of all 256 results; every step rounds to float32 like a float32 tensor op.
    const lut = new Float32Array(256);
    const m = Math.fround(mean[c]);
    const s = Math.fround(std[c]);
    for (let p = 0; p < 256; p++) {
      const v = Math.fround(p / 255);
      lut[p] = normalise ? Math.fround(Math.fround(v - m) / s) : v;
    }
    const dst = c * plane;
    if (layout === 'chw') {
      for (let i = 0; i < plane; i++) out[dst + i] = lut[pixels[dst + i]];
    } else {
      for (let i = 0, j = c; i < plane; i++, j += channels) out[dst + i] = lut[pixels[j]];
    }
  }
  return Tensor.wrap(out, [1, channels, height, width]);
}

function perChannel(op: string, name: string, v: number | ArrayLike<number> | undefined, channels: number, dflt: number): Float64Array {
  const out = new Float64Array(channels).fill(dflt);
  if (v === undefined) return out;
  if (typeof v === 'number') return out.fill(v);
  if (v === null || typeof v !== 'object' || typeof v.length !== 'number') {
    throw new TypeError(`${op}: options.${name} must be a number or an array of numbers, got ${describe(v)}`);
  }
  if (v.length !== channels) {
    throw new RangeError(`${op}: options.${name} has ${v.length} values but the image has ${channels} channels`);
  }
  for (let c = 0; c < channels; c++) {
    if (typeof v[c] !== 'number') throw new TypeError(`${op}: options.${name}[${c}] must be a number, got ${describe(v[c])}`);
    out[c] = v[c];
  }
  return out;
}

/**
 * The image endpoint's input: a PNG or JPEG body, its dimensions read from the header (PNG IHDR,
 * JPEG SOFn) and checked before anything is decoded, so a 100000x100000 "decompression bomb" costs
 * the server a few header bytes, not 40 GB. Decoded by pngjs / jpeg-js (pure JS: nothing to build),
 * resized bilinearly to the model's input and normalised.
 */
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { HttpError } from './protocol';

export interface ImageLimits {
  /** Largest width * height decoded (default 4096 * 4096). */
  maxPixels: number;
  /** Largest width or height (default 16384). */
  maxDimension: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxPixels: 4096 * 4096, maxDimension: 16384 };

/** Per-channel normalisation: ImageNet's for 3 channels, MNIST's for 1 (the usual training statistics). */
export function defaultNormalisation(channels: number): { mean: number[]; std: number[] } {
  if (channels === 3) return { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  if (channels === 1) return { mean: [0.1307], std: [0.3081] };
  return { mean: new Array(channels).fill(0), std: new Array(channels).fill(1) };
}

export interface ImageHeader {
  format: 'png' | 'jpeg';
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Format and dimensions from the first bytes, without decoding; 400 when the header is not there. */
export function readImageHeader(buf: Uint8Array, format: 'png' | 'jpeg'): ImageHeader {
  if (format === 'png') {
    if (buf.length < 8 || PNG_SIGNATURE.some((b, i) => buf[i] !== b)) throw new HttpError(400, 'the body is not a PNG (no PNG signature)');
    // The first chunk must be IHDR: length 13, then width and height as big-endian uint32.
    if (buf.length < 24) throw new HttpError(400, `truncated PNG: ${buf.length} bytes, the IHDR chunk ends at byte 33`);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const type = String.fromCharCode(buf[12], buf[13], buf[14], buf[15]);
    if (dv.getUint32(8) !== 13 || type !== 'IHDR') throw new HttpError(400, `malformed PNG: the first chunk is '${type}', not a 13-byte IHDR`);
    return { format, width: dv.getUint32(16), height: dv.getUint32(20) };
  }
  if (buf.length < 2 || buf[0] !== 0xff || buf[1] !== 0xd8) throw new HttpError(400, 'the body is not a JPEG (no SOI marker)');
  // Walk the marker segments up to the first frame header (SOF0-SOF15 except DHT, JPG, DAC).
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) throw new HttpError(400, `malformed JPEG: expected a marker at byte ${i}`);
    const m = buf[i + 1];
    if (m === 0xff) { i++; continue; } // fill byte
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { i += 2; continue; } // no length
    if (m === 0xd9 || m === 0xda) break; // EOI or scan data before any frame header
    const len = (buf[i + 2] << 8) | buf[i + 3];
    if (len < 2) throw new HttpError(400, `malformed JPEG: segment length ${len} at byte ${i}`);
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (i + 9 > buf.length) break;
      return { format, height: (buf[i + 5] << 8) | buf[i + 6], width: (buf[i + 7] << 8) | buf[i + 8] };
    }
    i += 2 + len;
  }
  throw new HttpError(400, 'truncated or malformed JPEG: no frame header (SOF) before the image data');
}

/** Refuses dimensions above the limits (413: the image is too large to take). */
export function checkImageSize(h: ImageHeader, limits: ImageLimits): void {
  if (h.width < 1 || h.height < 1) throw new HttpError(400, `the ${h.format.toUpperCase()} header declares ${h.width}x${h.height} pixels`);
  if (h.width > limits.maxDimension || h.height > limits.maxDimension || h.width * h.height > limits.maxPixels) {
    throw new HttpError(413, `the image is ${h.width}x${h.height} pixels; at most ${limits.maxDimension} per side and ${limits.maxPixels} pixels are decoded`);
  }
}

/** RGBA pixels of a PNG or JPEG body, dimensions checked first. */
export function decodeImage(buf: Buffer, format: 'png' | 'jpeg', limits: ImageLimits = DEFAULT_IMAGE_LIMITS): { width: number; height: number; rgba: Uint8Array } {
  const h = readImageHeader(buf, format);
  checkImageSize(h, limits);
  try {
    if (format === 'png') {
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, rgba: png.data };
    }
    const img = jpeg.decode(buf, {
      useTArray: true, formatAsRGBA: true, tolerantDecoding: false,
      maxResolutionInMP: limits.maxPixels / 1e6, maxMemoryUsageInMB: Math.ceil((limits.maxPixels * 8) / 2 ** 20) + 64,
    });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (e) {
    throw new HttpError(400, `the ${format.toUpperCase()} could not be decoded: ${(e as Error).message}`);
  }
}

/**
 * RGBA pixels resized (bilinear, pixel centres aligned as PyTorch's align_corners=False) to
 * [C, H, W] float32, `(p / 255 - mean[c]) / std[c]`; one channel is the luma (ITU-R BT.601).
 */
export function toModelInput(img: { width: number; height: number; rgba: Uint8Array }, sampleShape: readonly number[]): Float32Array {
  if (sampleShape.length !== 3 || (sampleShape[0] !== 1 && sampleShape[0] !== 3)) {
    throw new HttpError(400, `the image endpoint serves models taking [1 or 3, H, W] images; this one takes [${sampleShape.join(', ')}]`);
  }
  const [C, H, W] = sampleShape;
  const { width: iw, height: ih, rgba } = img;
  if (rgba.length !== iw * ih * 4) throw new HttpError(400, `the decoded image has ${rgba.length} bytes for ${iw}x${ih} RGBA`);
  const { mean, std } = defaultNormalisation(C);
  const out = new Float32Array(C * H * W);
  const sy = ih / H, sx = iw / W;
  const px = (x: number, y: number, c: number): number => {
    const o = (y * iw + x) * 4;
    return C === 1 ? 0.299 * rgba[o] + 0.587 * rgba[o + 1] + 0.114 * rgba[o + 2] : rgba[o + c];
  };
  for (let y = 0; y < H; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), ih - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, ih - 1), wy = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), iw - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, iw - 1), wx = fx - x0;
      for (let c = 0; c < C; c++) {
        const top = px(x0, y0, c) * (1 - wx) + px(x1, y0, c) * wx;
        const bottom = px(x0, y1, c) * (1 - wx) + px(x1, y1, c) * wx;
        const v = (top * (1 - wy) + bottom * wy) / 255;
        out[(c * H + y) * W + x] = (v - mean[c]) / std[c];
      }
    }
  }
  return out;
}

/** The k most probable classes of a logits row (softmax), most probable first. */
export function topK(logits: Float32Array, k: number): { index: number; probability: number; logit: number }[] {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b).slice(0, k);
  return order.map((i) => ({ index: i, probability: Math.exp(logits[i] - max) / sum, logit: logits[i] }));
}

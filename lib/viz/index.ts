/**
 * Pictures of what a network computes: feature maps, filters, images, receptive fields and
 * training curves. Each function writes one file, SVG when the path ends in .svg and PNG otherwise,
 * and returns the path (missing folders are made).
 */
import { Tensor } from '../tensor';
import { Module } from '../nn/module';
import { Conv2d } from '../nn/conv';
import { receptiveField as fieldRows } from '../nn/receptive-field';
import { describe, shapeStr } from '../errors';
import type { EpochStats } from '../train/fit';
import { Scene, type RGB } from './scene';
import { COLORMAPS, colorAt, inkOn, type ColormapName } from './colormap';
import { textWidth } from './font';

export type { ColormapName } from './colormap';

export interface FeatureMapsOptions {
  /** Tiles per row (default: about the square root of the channel count). */
  cols?: number;
  /** 'viridis' (default), 'gray' or 'rdbu'. */
  colormap?: ColormapName;
  /**
   * 'global' (default): one scale for every channel, shown by the colour bar; 'channel': each map
   * its own min..max. With 'rdbu' the scale is symmetric about 0, which is white.
   */
  normalize?: 'global' | 'channel';
  /** Screen pixels per map pixel (default: tiles about 96 px wide). */
  scale?: number;
  title?: string;
  /** Tile labels (default: the channel index). */
  labels?: string[];
}

export interface FiltersOptions {
  /** 'auto' (default): RGB patches when the filters have 3 input channels, else one tile per input channel. */
  mode?: 'auto' | 'rgb' | 'channels';
  /** Filters drawn at most (default 64). */
  maxFilters?: number;
  /** Input channels drawn at most per filter in 'channels' mode (default 16). */
  maxChannels?: number;
  /** Tiles per row in 'rgb' mode. */
  cols?: number;
  scale?: number;
  title?: string;
}

export interface ImageOptions {
  /** Screen pixels per image pixel (default: the longer side about 256 px). */
  scale?: number;
  /** Values mapped to black and white (default [0, 1] when every value lies in it, else min..max). */
  range?: [number, number];
  /** For one channel: 'gray' (default), 'viridis' or 'rdbu'. */
  colormap?: ColormapName;
  /** Writes each pixel's value in its cell (small matrices, such as a worked example). */
  values?: boolean;
  title?: string;
}

export interface ReceptiveFieldOptions {
  /** Screen pixels per input pixel (default: the input about 320 px). */
  scale?: number;
  title?: string;
}

export interface HistoryOptions {
  title?: string;
}

const MARGIN = 12;
const INK: RGB = [33, 33, 33];
const MUTED: RGB = [110, 110, 110];
const PALETTE: RGB[] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75],
  [227, 119, 194], [0, 0, 0], [188, 189, 34], [23, 190, 207]];

// ---- argument checks ----------------------------------------------------------------------------

function checkPath(fn: string, path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`${fn}: path must be a non-empty string, got ${describe(path)}`);
  return path;
}

function checkOpts<T>(fn: string, o: unknown): Partial<T> {
  if (o === undefined) return {};
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TypeError(`${fn}: options must be an object, got ${describe(o)}`);
  return o as Partial<T>;
}

function checkTensor(fn: string, name: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) throw new TypeError(`${fn}: ${name} must be a Tensor, got ${describe(t)}`);
  if (t.disposed) throw new Error(`${fn}: ${name} (shape ${shapeStr(t.shape)}) is disposed`);
  return t;
}

function posIntOpt(fn: string, name: string, v: unknown, dflt: number, max = 4096): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new RangeError(`${fn}: '${name}' must be an integer from 1 to ${max}, got ${describe(v)}`);
  }
  return v;
}

function colormapOpt(fn: string, v: unknown, dflt: ColormapName): ColormapName {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !COLORMAPS.includes(v as ColormapName)) {
    throw new RangeError(`${fn}: 'colormap' must be one of ${COLORMAPS.map((c) => `'${c}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as ColormapName;
}

function stringOpt(fn: string, name: string, v: unknown): string | undefined {
  if (v !== undefined && typeof v !== 'string') throw new TypeError(`${fn}: '${name}' must be a string, got ${describe(v)}`);
  return v as string | undefined;
}

function oneOf<T extends string>(fn: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (v === undefined) return allowed[0];
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new RangeError(`${fn}: '${name}' must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${describe(v)}`);
  }
  return v as T;
}

// ---- numbers ------------------------------------------------------------------------------------

/** A short label for v: integers as they are, else 3 significant digits. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(1).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

/** Round tick values inside [lo, hi]: steps of 1, 2 or 5 times a power of ten, about n of them. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  // The multiple nearest to raw on a log scale (thresholds at the geometric means, as d3's ticks).
  const e = raw / p;
  const step = (e >= Math.sqrt(50) ? 10 : e >= Math.sqrt(10) ? 5 : e >= Math.sqrt(2) ? 2 : 1) * p;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function finiteRange(d: ArrayLike<number>, from = 0, to = d.length): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = from; i < to; i++) {
    const v = d[i];
    if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/** A diverging map is centred on 0 (white), so its range is symmetric; the others use lo..hi. */
function scaleRange([lo, hi]: [number, number], map: ColormapName): [number, number] {
  if (map !== 'rdbu') return [lo, hi];
  const m = Math.max(Math.abs(lo), Math.abs(hi));
  return m > 0 ? [-m, m] : [lo, hi];
}

/** An H x W plane of d from offset, mapped through the colour map with lo..hi to 0..1. */
function heat(d: ArrayLike<number>, offset: number, H: number, W: number, lo: number, hi: number, map: ColormapName): Uint8Array {
  const rgb = new Uint8Array(H * W * 3);
  const span = hi - lo;
  for (let i = 0; i < H * W; i++) {
    const v = d[offset + i];
    rgb.set(colorAt(map, span > 0 ? (v - lo) / span : Number.isNaN(v) ? NaN : 0.5), 3 * i);
  }
  return rgb;
}

/** A vertical colour bar at (x, y), lo at the bottom, with tick labels to its right; returns its width. */
function colorBar(s: Scene, x: number, y: number, h: number, lo: number, hi: number, map: ColormapName,
  labels?: [string, string]): number {
  const w = 12;
  const steps = Math.max(2, Math.round(h / 2));
  for (let k = 0; k < steps; k++) {
    const y0 = y + (k * h) / steps, y1 = y + ((k + 1) * h) / steps;
    s.rect(x, Math.round(y0), w, Math.round(y1) - Math.round(y0), { fill: colorAt(map, 1 - (k + 0.5) / steps) });
  }
  s.rect(x, y, w, h, { stroke: MUTED });
  let textW = 0;
  const tick = (frac: number, label: string): void => {
    const ty = y + (1 - frac) * (h - 1);
    s.line([[x + w, ty], [x + w + 3, ty]], MUTED);
    s.text(x + w + 6, Math.round(ty - 3), label, { color: INK });
    textW = Math.max(textW, textWidth(label));
  };
  if (labels) {
    tick(0, labels[0]);
    tick(1, labels[1]);
  } else if (hi > lo) {
    for (const v of niceTicks(lo, hi, Math.max(2, Math.min(6, Math.floor(h / 24))))) tick((v - lo) / (hi - lo), formatValue(v));
  } else {
    tick(0.5, formatValue(lo));
  }
  return w + 6 + textW;
}

function autoScale(H: number, W: number, target: number, max: number): number {
  return Math.max(1, Math.min(max, Math.floor(target / Math.max(H, W))));
}

// ---- featureMaps --------------------------------------------------------------------------------

/**
 * One tile per channel of t ([1, C, H, W] or [C, H, W]), labelled with its index, and a colour bar.
 * @example viz.featureMaps(conv1Output, 'out/conv1.png', { cols: 8 });
 */
export function featureMaps(t: Tensor, path: string, opts?: FeatureMapsOptions): string {
  const fn = 'viz.featureMaps';
  checkTensor(fn, 't', t);
  checkPath(fn, path);
  const o = checkOpts<FeatureMapsOptions>(fn, opts);
  if (!((t.rank === 4 && t.shape[0] === 1) || t.rank === 3)) {
    throw new RangeError(`${fn}: t must be [1, C, H, W] or [C, H, W], got shape ${shapeStr(t.shape)}`);
  }
  const [C, H, W] = t.shape.slice(-3);
  if (C * H * W === 0) throw new RangeError(`${fn}: t must not be empty, got shape ${shapeStr(t.shape)}`);
  const cols = Math.min(C, posIntOpt(fn, 'cols', o.cols, Math.ceil(Math.sqrt(C))));
  const map = colormapOpt(fn, o.colormap, 'viridis');
  const normalize = oneOf(fn, 'normalize', o.normalize, ['global', 'channel'] as const);
  const cell = posIntOpt(fn, 'scale', o.scale, autoScale(H, W, 96, 32), 64);
  const title = stringOpt(fn, 'title', o.title) ?? `feature maps ${shapeStr(t.shape)}`;
  const labels = o.labels;
  if (labels !== undefined && (!Array.isArray(labels) || labels.length !== C || labels.some((l) => typeof l !== 'string'))) {
    throw new TypeError(`${fn}: 'labels' must be an array of ${C} strings (one per channel), got ${describe(labels)}`);
  }
  const rows = Math.ceil(C / cols);
  const tileW = W * cell, tileH = H * cell, labelH = 11, gap = 8;
  const gridW = cols * tileW + (cols - 1) * gap;
  const gridH = rows * (labelH + tileH) + (rows - 1) * gap;
  const top = MARGIN + 14 + 10;
  const d = t.data;
  const [glo, ghi] = scaleRange(finiteRange(d), map);
  const barH = Math.max(60, Math.min(gridH, 260));
  const barLabels = normalize === 'channel' ? ['min', 'max'] as [string, string] : undefined;
  const barTextW = barLabels ? textWidth('max') : Math.max(...niceTicks(glo, ghi, 6).map((v) => textWidth(formatValue(v))), textWidth(formatValue(glo)));
  const [vlo, vhi] = finiteRange(d);
  const note = (normalize === 'channel' ? 'each map scaled to its own min..max' : `min ${formatValue(vlo)}  max ${formatValue(vhi)}`) +
    (map === 'rdbu' ? ', white = 0' : '');
  const width = Math.max(MARGIN + gridW + 16 + 12 + 6 + barTextW + MARGIN, MARGIN * 2 + textWidth(title, 2), MARGIN * 2 + textWidth(note));
  const height = top + gridH + 10 + 7 + MARGIN;
  const s = new Scene(width, height);
  s.text(MARGIN, MARGIN, title, { size: 2, color: INK });
  for (let c = 0; c < C; c++) {
    const x = MARGIN + (c % cols) * (tileW + gap);
    const y = top + Math.floor(c / cols) * (labelH + tileH + gap);
    const label = labels ? labels[c] : String(c);
    s.text(x, y, label, { color: INK });
    const [lo, hi] = normalize === 'channel' ? scaleRange(finiteRange(d, c * H * W, (c + 1) * H * W), map) : [glo, ghi];
    s.pixels(x, y + labelH, W, H, cell, heat(d, c * H * W, H, W, lo, hi, map));
  }
  colorBar(s, MARGIN + gridW + 16, top + labelH, barH, glo, ghi, map, barLabels);
  s.text(MARGIN, top + gridH + 10, note, { color: MUTED });
  return s.write(path);
}

// ---- filters ------------------------------------------------------------------------------------

/**
 * A convolution's filters (weight [outC, inC, kH, kW], or the Conv2d): RGB patches for a first
 * layer on colour input (each filter scaled to its own range), otherwise a grid of one tile per
 * filter (rows) and input channel (columns) on a diverging scale centred at 0.
 * @example viz.filters(net.features.at(0), 'out/conv1-filters.png');
 */
export function filters(weight: Tensor | Conv2d, path: string, opts?: FiltersOptions): string {
  const fn = 'viz.filters';
  const w = checkTensor(fn, 'weight', weight instanceof Conv2d ? weight.weight : weight);
  checkPath(fn, path);
  const o = checkOpts<FiltersOptions>(fn, opts);
  if (w.rank !== 4 || w.size === 0) throw new RangeError(`${fn}: weight must be [outC, inC, kH, kW], got shape ${shapeStr(w.shape)}`);
  const [O, I, kH, kW] = w.shape;
  let mode = oneOf(fn, 'mode', o.mode, ['auto', 'rgb', 'channels'] as const);
  if (mode === 'rgb' && I !== 3) throw new RangeError(`${fn}: mode 'rgb' needs 3 input channels, got weight shape ${shapeStr(w.shape)}`);
  if (mode === 'auto') mode = I === 3 ? 'rgb' : 'channels';
  const maxF = posIntOpt(fn, 'maxFilters', o.maxFilters, 64);
  const maxC = posIntOpt(fn, 'maxChannels', o.maxChannels, 16);
  const cell = posIntOpt(fn, 'scale', o.scale, autoScale(kH, kW, 48, 16), 64);
  const nF = Math.min(O, maxF);
  const d = w.data;
  const per = I * kH * kW;
  const shown = nF < O ? `, first ${nF} of ${O}` : '';
  const title = stringOpt(fn, 'title', o.title) ?? `filters ${shapeStr(w.shape)}${shown}`;
  const tileW = kW * cell, tileH = kH * cell;
  if (mode === 'channels' && I === 1) {
    // One channel: a grid of filters (not one column), on one diverging scale about 0.
    const cols = Math.min(nF, posIntOpt(fn, 'cols', o.cols, Math.ceil(Math.sqrt(nF))));
    const rows = Math.ceil(nF / cols);
    const labelH = 11, gap = 6, top = MARGIN + 24;
    let lim = 0;
    for (let i = 0; i < nF * per; i++) lim = Math.max(lim, Math.abs(d[i]) || 0);
    const note = 'white = 0';
    const gridW = cols * tileW + (cols - 1) * gap, gridH = rows * (labelH + tileH) + (rows - 1) * gap;
    const barH = Math.max(60, Math.min(gridH - labelH, 260));
    const barW = 12 + 6 + Math.max(...niceTicks(-lim, lim, 6).map((v) => textWidth(formatValue(v))));
    const s = new Scene(Math.max(MARGIN + gridW + 16 + barW + MARGIN, 2 * MARGIN + textWidth(title, 2)), top + Math.max(gridH, barH + labelH) + 10 + 7 + MARGIN);
    s.text(MARGIN, MARGIN, title, { size: 2, color: INK });
    for (let f = 0; f < nF; f++) {
      const x = MARGIN + (f % cols) * (tileW + gap), y = top + Math.floor(f / cols) * (labelH + tileH + gap);
      s.text(x, y, String(f), { color: INK });
      s.pixels(x, y + labelH, kW, kH, cell, heat(d, f * per, kH, kW, -lim, lim, 'rdbu'));
    }
    colorBar(s, MARGIN + gridW + 16, top + labelH, barH, -lim, lim, 'rdbu');
    s.text(MARGIN, top + Math.max(gridH, barH + labelH) + 10, note, { color: MUTED });
    return s.write(path);
  }
  if (mode === 'rgb') {
    const cols = Math.min(nF, posIntOpt(fn, 'cols', o.cols, Math.ceil(Math.sqrt(nF))));
    const rows = Math.ceil(nF / cols);
    const labelH = 11, gap = 6, top = MARGIN + 24;
    const note = 'R, G, B = input channels 0, 1, 2; each filter scaled to its own min..max';
    const gridW = cols * tileW + (cols - 1) * gap, gridH = rows * (labelH + tileH) + (rows - 1) * gap;
    const s = new Scene(Math.max(2 * MARGIN + gridW, 2 * MARGIN + textWidth(title, 2), 2 * MARGIN + textWidth(note)), top + gridH + 10 + 7 + MARGIN);
    s.text(MARGIN, MARGIN, title, { size: 2, color: INK });
    for (let f = 0; f < nF; f++) {
      const [lo, hi] = finiteRange(d, f * per, (f + 1) * per);
      const rgb = new Uint8Array(kH * kW * 3);
      for (let p = 0; p < kH * kW; p++) {
        for (let ch = 0; ch < 3; ch++) {
          const v = d[f * per + ch * kH * kW + p];
          rgb[3 * p + ch] = hi > lo ? Math.round((255 * (v - lo)) / (hi - lo)) : 128;
        }
      }
      const x = MARGIN + (f % cols) * (tileW + gap), y = top + Math.floor(f / cols) * (labelH + tileH + gap);
      s.text(x, y, String(f), { color: INK });
      s.pixels(x, y + labelH, kW, kH, cell, rgb);
    }
    s.text(MARGIN, top + gridH + 10, note, { color: MUTED });
    return s.write(path);
  }
  const nC = Math.min(I, maxC);
  const gap = 3, rowLabelW = textWidth(`f${nF - 1}`) + 6, top = MARGIN + 24 + 11;
  let lim = 0;
  for (let f = 0; f < nF; f++) for (let i = 0; i < nC * kH * kW; i++) lim = Math.max(lim, Math.abs(d[f * per + i]) || 0);
  const gridW = nC * tileW + (nC - 1) * gap, gridH = nF * tileH + (nF - 1) * gap;
  const barH = Math.max(60, Math.min(gridH, 260));
  const note = nC < I ? `input channels 0..${nC - 1} of ${I} (columns), filters (rows)` : 'input channels (columns), filters (rows)';
  const barW = 12 + 6 + Math.max(...niceTicks(-lim, lim, 6).map((v) => textWidth(formatValue(v))));
  const s = new Scene(Math.max(MARGIN + rowLabelW + gridW + 16 + barW + MARGIN, 2 * MARGIN + textWidth(title, 2), 2 * MARGIN + textWidth(note)),
    top + gridH + 10 + 7 + MARGIN);
  s.text(MARGIN, MARGIN, title, { size: 2, color: INK });
  const x0 = MARGIN + rowLabelW;
  // Column headers every few columns when the tiles are narrower than their labels.
  const every = Math.max(1, Math.ceil((textWidth(String(nC - 1)) + 2) / (tileW + gap)));
  for (let c = 0; c < nC; c += every) s.text(x0 + c * (tileW + gap), top - 11, String(c), { color: INK });
  for (let f = 0; f < nF; f++) {
    const y = top + f * (tileH + gap);
    s.text(MARGIN, y + Math.max(0, Math.floor((tileH - 7) / 2)), `f${f}`, { color: INK });
    for (let c = 0; c < nC; c++) {
      s.pixels(x0 + c * (tileW + gap), y, kW, kH, cell, heat(d, f * per + c * kH * kW, kH, kW, -lim, lim, 'rdbu'));
    }
  }
  colorBar(s, x0 + gridW + 16, top, barH, -lim, lim, 'rdbu');
  s.text(MARGIN, top + gridH + 10, note, { color: MUTED });
  return s.write(path);
}

// ---- image --------------------------------------------------------------------------------------

/**
 * An image tensor: [H, W], [C, H, W] or [1, C, H, W] with C = 1 (grey, or a colour map) or 3 (RGB).
 * Without a title the file is exactly W * scale by H * scale pixels.
 * @example viz.image(digit, 'out/digit.png', { scale: 8 });
 */
export function image(t: Tensor, path: string, opts?: ImageOptions): string {
  const fn = 'viz.image';
  checkTensor(fn, 't', t);
  checkPath(fn, path);
  const o = checkOpts<ImageOptions>(fn, opts);
  const sh = t.shape;
  const ok = t.rank === 2 || (t.rank === 3 && (sh[0] === 1 || sh[0] === 3)) || (t.rank === 4 && sh[0] === 1 && (sh[1] === 1 || sh[1] === 3));
  if (!ok || t.size === 0) throw new RangeError(`${fn}: t must be [H, W], [C, H, W] or [1, C, H, W] with C 1 or 3, got shape ${shapeStr(sh)}`);
  const [H, W] = sh.slice(-2);
  const C = t.rank === 2 ? 1 : sh[sh.length - 3];
  const d = t.data;
  let range: [number, number];
  if (o.range !== undefined) {
    const r = o.range;
    if (!Array.isArray(r) || r.length !== 2 || !r.every(Number.isFinite) || !(r[1] > r[0])) {
      throw new RangeError(`${fn}: 'range' must be [lo, hi] with finite lo < hi, got ${describe(r)}`);
    }
    range = [r[0], r[1]];
  } else {
    const [lo, hi] = finiteRange(d);
    range = lo >= 0 && hi <= 1 ? [0, 1] : [lo, hi];
    if (o.colormap === 'rdbu') range = scaleRange(range, 'rdbu');
  }
  const map = colormapOpt(fn, o.colormap, 'gray');
  if (o.values !== undefined && typeof o.values !== 'boolean') throw new TypeError(`${fn}: 'values' must be a boolean, got ${describe(o.values)}`);
  const labels = o.values ? Array.from(d.subarray(0, H * W), formatValue) : null;
  const needed = labels ? Math.max(...labels.map((l) => textWidth(l))) + 6 : 1;
  const cell = posIntOpt(fn, 'scale', o.scale, Math.max(needed, autoScale(H, W, 256, 32)), 256);
  const title = stringOpt(fn, 'title', o.title);
  const top = title ? MARGIN + 24 : 0, left = title ? MARGIN : 0;
  const s = new Scene(Math.max(left * 2 + W * cell, title ? 2 * MARGIN + textWidth(title, 2) : 0), top + H * cell + (title ? MARGIN : 0));
  if (title) s.text(MARGIN, MARGIN, title, { size: 2, color: INK });
  const [lo, hi] = range;
  let rgb: Uint8Array;
  if (C === 3) {
    rgb = new Uint8Array(H * W * 3);
    for (let p = 0; p < H * W; p++) {
      for (let ch = 0; ch < 3; ch++) rgb[3 * p + ch] = Math.round(255 * Math.min(1, Math.max(0, (d[ch * H * W + p] - lo) / (hi - lo || 1))));
    }
  } else {
    rgb = heat(d, 0, H, W, lo, hi, map);
  }
  s.pixels(left, top, W, H, cell, rgb);
  if (labels && C === 1) {
    for (let p = 0; p < H * W; p++) {
      const ink = inkOn([rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]]);
      s.text(left + (p % W) * cell + cell / 2, top + Math.floor(p / W) * cell + Math.floor((cell - 7) / 2), labels[p], { color: ink, anchor: 'middle' });
    }
  }
  return s.write(path);
}

// ---- receptiveField -----------------------------------------------------------------------------

/**
 * The input region that one output unit sees after each convolution and pooling layer (the unit at
 * the centre of each layer's output), drawn over the input grid; padding outside the input is grey.
 * @example viz.receptiveField(net, [1, 32, 32], 'out/rf.png');
 */
export function receptiveField(module: Module, inputShape: readonly number[], path: string, opts?: ReceptiveFieldOptions): string {
  const fn = 'viz.receptiveField';
  if (!(module instanceof Module)) throw new TypeError(`${fn}: module must be a Module, got ${describe(module)}`);
  checkPath(fn, path);
  const o = checkOpts<ReceptiveFieldOptions>(fn, opts);
  if (!Array.isArray(inputShape) || (inputShape.length !== 3 && inputShape.length !== 4)) {
    throw new RangeError(`${fn}: inputShape must be [C, H, W] or [N, C, H, W], got ${describe(inputShape)}`);
  }
  const rows = fieldRows(module, inputShape);
  if (rows.length === 0) throw new RangeError(`${fn}: ${module.constructor.name} has no convolution or pooling layer`);
  const [H, W] = inputShape.slice(-2);
  // Output sizes per layer, from the summary's trace (a name seen twice is matched in call order).
  const outs = new Map<string, number[][]>();
  for (const r of module.summary(inputShape).rows) {
    if (!outs.has(r.name)) outs.set(r.name, []);
    outs.get(r.name)!.push(r.outputShape);
  }
  const used = new Map<string, number>();
  const boxes = rows.map((r) => {
    const k = used.get(r.name) ?? 0;
    used.set(r.name, k + 1);
    const shape = outs.get(r.name)?.[k] ?? [1, 1, 1, 1];
    const OH = shape.length === 4 ? shape[2] : 1, OW = shape.length === 4 ? shape[3] : 1;
    const i = Math.floor((OH - 1) / 2), j = Math.floor((OW - 1) / 2);
    const top = r.startHW[0] + i * r.jumpHW[0] - (r.sizeHW[0] - 1) / 2;
    const left = r.startHW[1] + j * r.jumpHW[1] - (r.sizeHW[1] - 1) / 2;
    return { row: r, top, left, unit: [i, j], out: [OH, OW] };
  });
  const minY = Math.floor(Math.min(0, ...boxes.map((b) => b.top)));
  const minX = Math.floor(Math.min(0, ...boxes.map((b) => b.left)));
  const maxY = Math.ceil(Math.max(H, ...boxes.map((b) => b.top + b.row.sizeHW[0])));
  const maxX = Math.ceil(Math.max(W, ...boxes.map((b) => b.left + b.row.sizeHW[1])));
  const spanY = maxY - minY, spanX = maxX - minX;
  const cell = posIntOpt(fn, 'scale', o.scale, Math.max(2, autoScale(spanY, spanX, 320, 24)), 64);
  const title = stringOpt(fn, 'title', o.title) ?? `receptive fields, input ${H}x${W}`;
  const legend = boxes.map((b) => {
    const r = b.row;
    const line1 = `${r.name || '(root)'} ${r.type}`;
    const size = r.sizeHW[0] === r.sizeHW[1] ? `${formatValue(r.sizeHW[0])}x${formatValue(r.sizeHW[1])}` : `${formatValue(r.sizeHW[0])}x${formatValue(r.sizeHW[1])}`;
    const line2 = `field ${size}, jump ${formatValue(r.jumpHW[0])}, unit (${b.unit[0]},${b.unit[1]}) of ${b.out[0]}x${b.out[1]}`;
    return [line1, line2];
  });
  const legendW = Math.max(...legend.flat().map((l) => textWidth(l))) + 18;
  const top = MARGIN + 24;
  const gridW = spanX * cell, gridH = spanY * cell;
  const legendH = legend.length * 24;
  const note = 'grey: padding outside the input';
  const width = Math.max(MARGIN + gridW + 20 + legendW + MARGIN, 2 * MARGIN + textWidth(title, 2));
  const height = top + Math.max(gridH + 10 + 7, legendH) + MARGIN;
  const s = new Scene(width, height);
  s.text(MARGIN, MARGIN, title, { size: 2, color: INK });
  const ox = MARGIN - minX * cell, oy = top - minY * cell;
  s.rect(MARGIN, top, gridW, gridH, { fill: [225, 225, 225] });
  s.rect(ox, oy, W * cell, H * cell, { fill: [255, 255, 255] });
  if (cell >= 6) {
    const grid: RGB = [215, 215, 215];
    for (let y = 0; y <= H; y++) s.line([[ox, oy + y * cell], [ox + W * cell - 1, oy + y * cell]], grid);
    for (let x = 0; x <= W; x++) s.line([[ox + x * cell, oy], [ox + x * cell, oy + H * cell - 1]], grid);
  }
  s.rect(ox, oy, W * cell, H * cell, { stroke: MUTED });
  boxes.forEach((b, k) => {
    const c = PALETTE[k % PALETTE.length];
    const x = ox + b.left * cell, y = oy + b.top * cell;
    // Inset by k so that equal fields of consecutive layers (a ReLU-free pool of 1, say) stay visible.
    const inset = Math.min(k % 3, Math.floor((b.row.sizeHW[1] * cell) / 4));
    s.rect(x + inset, y + inset, b.row.sizeHW[1] * cell - 2 * inset, b.row.sizeHW[0] * cell - 2 * inset, { stroke: c, width: 2 });
    const lx = MARGIN + gridW + 20, ly = top + k * 24;
    s.rect(lx, ly + 1, 10, 10, { fill: c });
    s.text(lx + 16, ly + 2, legend[k][0], { color: INK });
    s.text(lx + 16, ly + 12, legend[k][1], { color: MUTED });
  });
  if (minX < 0 || minY < 0 || maxX > W || maxY > H) s.text(MARGIN, top + gridH + 10, note, { color: MUTED });
  return s.write(path);
}

// ---- history ------------------------------------------------------------------------------------

/**
 * Training curves from fit's history: loss and accuracy per epoch, train and (when fit had
 * validation data) validation.
 * @example const h = fit(model, train, { epochs: 5, validation }); viz.history(h, 'out/training.png');
 */
export function history(hist: readonly EpochStats[], path: string, opts?: HistoryOptions): string {
  const fn = 'viz.history';
  if (!Array.isArray(hist) || hist.length === 0) throw new TypeError(`${fn}: history must be a non-empty array of fit's epoch stats, got ${describe(hist)}`);
  hist.forEach((e, i) => {
    if (e === null || typeof e !== 'object') throw new TypeError(`${fn}: history[${i}] must be an object, got ${describe(e)}`);
    for (const k of ['epoch', 'loss', 'accuracy'] as const) {
      if (typeof e[k] !== 'number' || !Number.isFinite(e[k])) throw new TypeError(`${fn}: history[${i}].${k} must be a finite number, got ${describe(e[k])}`);
    }
  });
  checkPath(fn, path);
  const o = checkOpts<HistoryOptions>(fn, opts);
  const title = stringOpt(fn, 'title', o.title) ?? `training, ${hist.length} epoch${hist.length === 1 ? '' : 's'}`;
  const hasVal = hist.some((e) => typeof e.valLoss === 'number' && Number.isFinite(e.valLoss));
  const pw = 300, ph = 200, left = 48, bottom = 34, gapX = 40, top = MARGIN + 24 + 18;
  const width = MARGIN + 2 * (left + pw) + gapX + MARGIN;
  const height = top + ph + bottom + 14 + MARGIN;
  const s = new Scene(width, height);
  s.text(MARGIN, MARGIN, title, { size: 2, color: INK });
  const epochs = hist.map((e) => e.epoch);
  const panel = (k: number, name: string, train: number[], val: (number | undefined)[], asPercent: boolean): void => {
    const px = MARGIN + k * (left + pw + gapX) + left, py = top;
    s.text(px, py - 16, name, { color: INK });
    const all = [...train, ...val.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))];
    let [ylo, yhi] = finiteRange(all);
    if (!(yhi > ylo)) { ylo -= asPercent ? 0.01 : Math.abs(ylo) * 0.1 + 0.1; yhi += asPercent ? 0.01 : Math.abs(yhi) * 0.1 + 0.1; }
    const pad = (yhi - ylo) * 0.08;
    ylo -= pad; yhi += pad;
    if (asPercent) { ylo = Math.max(0, ylo); yhi = Math.min(1, yhi); }
    let [xlo, xhi] = finiteRange(epochs);
    if (!(xhi > xlo)) { xlo -= 1; xhi += 1; }
    // Points stay clear of the frame by `inner` pixels, so that the end markers are whole.
    const inner = 10;
    const X = (e: number): number => px + inner + ((e - xlo) / (xhi - xlo)) * (pw - 1 - 2 * inner);
    const Y = (v: number): number => py + (1 - (v - ylo) / (yhi - ylo)) * (ph - 1);
    s.rect(px, py, pw, ph, { fill: [250, 250, 250] });
    const grid: RGB = [228, 228, 228];
    for (const v of niceTicks(ylo, yhi, 5)) {
      s.line([[px, Y(v)], [px + pw - 1, Y(v)]], grid);
      const label = asPercent ? `${formatValue(Math.round(v * 1000) / 10)}%` : formatValue(v);
      s.text(px - 5, Math.round(Y(v) - 3), label, { color: INK, anchor: 'end' });
    }
    const xt = niceTicks(xlo, xhi, Math.min(8, Math.max(1, Math.round(xhi - xlo)))).filter((v) => Number.isInteger(v));
    for (const e of xt) {
      s.line([[X(e), py + ph - 1], [X(e), py + ph + 3]], MUTED);
      s.text(X(e), py + ph + 6, String(e), { color: INK, anchor: 'middle' });
    }
    s.text(px + pw / 2, py + ph + 20, 'epoch', { color: MUTED, anchor: 'middle' });
    s.line([[px, py], [px, py + ph - 1], [px + pw - 1, py + ph - 1]], MUTED);
    const series = (vals: (number | undefined)[], c: RGB, dash: boolean): void => {
      const pts: [number, number][] = [];
      vals.forEach((v, i) => { if (typeof v === 'number' && Number.isFinite(v)) pts.push([X(epochs[i]), Y(v)]); });
      if (pts.length > 1) s.line(pts, c, { width: 2, dash });
      for (const [x, y] of pts) s.rect(Math.round(x) - 2, Math.round(y) - 2, 5, 5, { fill: c });
    };
    series(train, PALETTE[0], false);
    if (hasVal) series(val, PALETTE[1], true);
    // The legend goes in the corner its box hides the fewest points (and segment midpoints) in.
    const entries: [string, RGB, boolean][] = [['train', PALETTE[0], false]];
    if (hasVal) entries.push(['validation', PALETTE[1], true]);
    const lw = Math.max(...entries.map(([l]) => textWidth(l))) + 30, lh = 8 + 12 * entries.length;
    const marks: [number, number][] = [];
    for (const vals of hasVal ? [train, val] : [train]) {
      const pts = vals.map((v, i) => (typeof v === 'number' && Number.isFinite(v) ? [X(epochs[i]), Y(v)] as [number, number] : null));
      pts.forEach((p, i) => {
        if (!p) return;
        marks.push(p);
        const q = pts[i + 1];
        if (q) for (let f = 1; f < 8; f++) marks.push([p[0] + ((q[0] - p[0]) * f) / 8, p[1] + ((q[1] - p[1]) * f) / 8]);
      });
    }
    const corners: [number, number][] = [[px + pw - lw - 6, py + 6], [px + pw - lw - 6, py + ph - lh - 6], [px + 6, py + 6], [px + 6, py + ph - lh - 6]];
    const hidden = ([cx, cy]: [number, number]): number =>
      marks.filter(([x, y]) => x >= cx - 4 && x <= cx + lw + 4 && y >= cy - 4 && y <= cy + lh + 4).length;
    const [lx, lyTop] = corners.reduce((best, c) => (hidden(c) < hidden(best) ? c : best));
    s.rect(lx, lyTop, lw, lh, { fill: [255, 255, 255], stroke: [200, 200, 200] });
    entries.forEach(([l, c, dash], i) => {
      const ly = lyTop + 6 + 12 * i;
      s.line([[lx + 5, ly + 3], [lx + 20, ly + 3]], c, { width: 2, dash });
      s.text(lx + 25, ly, l, { color: INK });
    });
  };
  panel(0, 'loss', hist.map((e) => e.loss), hist.map((e) => e.valLoss), false);
  panel(1, 'accuracy', hist.map((e) => e.accuracy), hist.map((e) => e.valAccuracy), true);
  return s.write(path);
}

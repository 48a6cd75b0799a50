/**
 * viz (lib/viz): every picture decoded back (PNG with pngjs, SVG's embedded tiles too) and checked
 * for its size, for not being blank, and for pixels whose colour follows from the data by the
 * colour map (lib/viz/colormap.ts), plus the argument errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { Tensor, models, nn, noGrad, randn, tensor, manualSeed, viz } from '../lib/index';
import { colorAt } from '../lib/viz/colormap';
import { niceTicks, formatValue } from '../lib/viz/index';
import type { EpochStats } from '../lib/train/fit';

const dir = mkdtempSync(join(tmpdir(), 'simdcnn-viz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function decode(path: string): PNG {
  return PNG.sync.read(readFileSync(path));
}

function pixel(png: PNG, x: number, y: number): [number, number, number] {
  const o = 4 * (y * png.width + x);
  return [png.data[o], png.data[o + 1], png.data[o + 2]];
}

/** Variance of the grey level over every pixel: 0 for a blank picture. */
function variance(png: PNG): number {
  let s = 0, s2 = 0;
  const n = png.width * png.height;
  for (let i = 0; i < n; i++) {
    const g = (png.data[4 * i] + png.data[4 * i + 1] + png.data[4 * i + 2]) / 3;
    s += g; s2 += g * g;
  }
  return s2 / n - (s / n) ** 2;
}

function colours(png: PNG): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < png.width * png.height; i++) out.add(`${png.data[4 * i]},${png.data[4 * i + 1]},${png.data[4 * i + 2]}`);
  return out;
}

const SEVEN = [2, 3, 7, 4, 6, 2, 9, 6, 6, 9, 8, 7, 4, 3, 3, 4, 8, 3, 8, 9, 7, 7, 8, 3, 6, 6, 3, 4, 4, 2, 1, 8, 3, 4, 6,
  3, 2, 4, 1, 9, 8, 3, 0, 1, 3, 9, 2, 1, 4];

describe('viz.image', () => {
  it('writes exactly W*scale x H*scale pixels, min black and max white', () => {
    const t = tensor(SEVEN, [7, 7]);
    const p = viz.image(t, join(dir, 'seven.png'), { scale: 5 });
    expect(p).toBe(join(dir, 'seven.png'));
    const png = decode(p);
    expect([png.width, png.height]).toEqual([35, 35]);
    expect(variance(png)).toBeGreaterThan(0);
    // Value 0 at (row 6, col 0), 9 at (row 0, col 6): the range is min..max.
    expect(pixel(png, 0 * 5 + 2, 6 * 5 + 2)).toEqual([0, 0, 0]);
    expect(pixel(png, 6 * 5 + 2, 0 * 5 + 2)).toEqual([255, 255, 255]);
    const g = Math.round((255 * 4) / 9);  // value 4 at (0, 3)
    expect(pixel(png, 3 * 5 + 2, 2)).toEqual([g, g, g]);
  });

  it('RGB [1, 3, H, W] images keep their channels; values in [0, 1] are taken as they are', () => {
    const d = new Float32Array(3 * 2 * 2);
    d[0] = 1; d[4 + 1] = 1; d[8 + 2] = 1;  // pixel 0 red, pixel 1 green, pixel 2 blue, pixel 3 black
    const png = decode(viz.image(tensor(d, [1, 3, 2, 2]), join(dir, 'rgb.png'), { scale: 3 }));
    expect([png.width, png.height]).toEqual([6, 6]);
    expect(pixel(png, 1, 1)).toEqual([255, 0, 0]);
    expect(pixel(png, 4, 1)).toEqual([0, 255, 0]);
    expect(pixel(png, 1, 4)).toEqual([0, 0, 255]);
    expect(pixel(png, 4, 4)).toEqual([0, 0, 0]);
  });

  it('values: true prints the numbers (cells big enough, text in both inks)', () => {
    const png = decode(viz.image(tensor(SEVEN, [7, 7]), join(dir, 'values.png'), { values: true }));
    expect(png.width).toBe(png.height);
    expect(png.width % 7).toBe(0);
    const c = png.width / 7;
    const plain = decode(viz.image(tensor(SEVEN, [7, 7]), join(dir, 'plain.png'), { scale: c }));
    const inCell = (p: PNG, row: number, col: number): string[] => {
      const out: string[] = [];
      for (let y = row * c; y < (row + 1) * c; y++) for (let x = col * c; x < (col + 1) * c; x++) out.push(pixel(p, x, y).join(','));
      return out;
    };
    // The plain cells are flat; with values, the black cell (0 at row 6, col 0) has white ink and
    // the white one (9 at row 0, col 6) black ink.
    expect(new Set(inCell(plain, 6, 0))).toEqual(new Set(['0,0,0']));
    expect(new Set(inCell(png, 6, 0))).toEqual(new Set(['0,0,0', '255,255,255']));
    expect(new Set(inCell(png, 0, 6))).toEqual(new Set(['0,0,0', '255,255,255']));
  });

  it('SVG: the same picture as an embedded PNG tile', () => {
    const p = viz.image(tensor(SEVEN, [7, 7]), join(dir, 'seven.svg'), { scale: 4 });
    const svg = readFileSync(p, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"')).toBe(true);
    const m = /href="data:image\/png;base64,([^"]+)"/.exec(svg);
    expect(m).not.toBeNull();
    const tile = PNG.sync.read(Buffer.from(m![1], 'base64'));
    expect([tile.width, tile.height]).toEqual([7, 7]);
    expect(pixel(tile, 6, 0)).toEqual([255, 255, 255]);
  });
});

describe('viz.featureMaps', () => {
  manualSeed(3);
  const conv = new nn.Conv2d(1, 6, 5, { padding: 2 });
  const x = randn([1, 1, 12, 12], { seed: 1 });
  const maps = noGrad(() => conv.forward(x));

  it('one tile per channel in the colour map, one global scale', () => {
    const png = decode(viz.featureMaps(maps, join(dir, 'maps.png'), { cols: 3, scale: 4 }));
    expect(variance(png)).toBeGreaterThan(0);
    // Layout: margin 12, title band 24, label 11; tiles 48 px with gaps of 8.
    let lo = Infinity, hi = -Infinity;
    for (const v of maps.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const at = (c: number, i: number, j: number): number => maps.data[c * 144 + i * 12 + j];
    for (const [c, i, j] of [[0, 0, 0], [0, 5, 7], [4, 11, 3], [5, 2, 9]]) {
      const tx = 12 + (c % 3) * (48 + 8), ty = 12 + 24 + Math.floor(c / 3) * (11 + 48 + 8) + 11;
      expect(pixel(png, tx + j * 4 + 1, ty + i * 4 + 1)).toEqual(colorAt('viridis', (at(c, i, j) - lo) / (hi - lo)));
    }
    expect(png.width).toBeGreaterThan(12 + 3 * 48 + 2 * 8 + 16 + 12);
    expect(png.height).toBe(12 + 24 + 2 * (11 + 48) + 8 + 10 + 7 + 12);
  });

  it("normalize 'channel' scales each map to its own range; [C, H, W] works too", () => {
    const three = Tensor.wrap(maps.data.slice(), [6, 12, 12]);
    const png = decode(viz.featureMaps(three, join(dir, 'maps-ch.png'), { cols: 6, scale: 2, normalize: 'channel', colormap: 'gray' }));
    for (let c = 0; c < 6; c++) {
      const plane = maps.data.subarray(c * 144, (c + 1) * 144);
      const k = plane.indexOf(Math.max(...plane));
      const tx = 12 + c * (24 + 8), ty = 12 + 24 + 11;
      expect(pixel(png, tx + (k % 12) * 2, ty + Math.floor(k / 12) * 2)).toEqual([255, 255, 255]);
    }
  });

  it('SVG: six embedded 12x12 tiles and the labels as text', () => {
    const svg = readFileSync(viz.featureMaps(maps, join(dir, 'maps.svg')), 'utf8');
    const tiles = [...svg.matchAll(/href="data:image\/png;base64,([^"]+)"/g)].map((m) => PNG.sync.read(Buffer.from(m[1], 'base64')));
    expect(tiles.length).toBe(6);
    for (const t of tiles) expect([t.width, t.height]).toEqual([12, 12]);
    expect(svg).toContain('>feature maps [1,6,12,12]</text>');
  });

  it('bad arguments', () => {
    expect(() => viz.featureMaps(randn([2, 3, 4, 4]), join(dir, 'x.png'))).toThrow(/viz.featureMaps: t must be \[1, C, H, W\] or \[C, H, W\], got shape \[2,3,4,4\]/);
    expect(() => viz.featureMaps([1, 2] as never, join(dir, 'x.png'))).toThrow(TypeError);
    expect(() => viz.featureMaps(maps, 42 as never)).toThrow(/viz.featureMaps: path must be a non-empty string, got 42/);
    expect(() => viz.featureMaps(maps, join(dir, 'x.png'), { colormap: 'jet' as never })).toThrow(/'colormap' must be one of 'viridis', 'gray', 'rdbu', got 'jet'/);
    expect(() => viz.featureMaps(maps, join(dir, 'x.png'), { cols: 0 })).toThrow(RangeError);
    expect(() => viz.featureMaps(maps, join(dir, 'x.png'), { normalize: 'layer' as never })).toThrow(/'normalize' must be 'global' or 'channel'/);
    expect(() => viz.featureMaps(maps, join(dir, 'x.png'), { labels: ['a'] })).toThrow(/'labels' must be an array of 6 strings/);
  });
});

describe('viz.filters', () => {
  it('RGB patches for 3 input channels: each filter min..max to 0..255', () => {
    const w = randn([4, 3, 3, 3], { seed: 9 });
    const png = decode(viz.filters(w, join(dir, 'rgb-filters.png'), { scale: 10, cols: 4 }));
    expect(variance(png)).toBeGreaterThan(0);
    const d = w.data;
    for (const f of [0, 3]) {
      const seg = d.subarray(f * 27, (f + 1) * 27);
      const lo = Math.min(...seg), hi = Math.max(...seg);
      const want = [0, 1, 2].map((ch) => Math.round((255 * (seg[ch * 9 + 4] - lo)) / (hi - lo)));
      const tx = 12 + f * (30 + 6), ty = 12 + 24 + 11;
      expect(pixel(png, tx + 15, ty + 15)).toEqual(want);  // the centre tap
    }
  });

  it('deeper layers: one tile per filter and input channel on a diverging scale around 0', () => {
    manualSeed(2);
    const conv = new nn.Conv2d(6, 16, 5);
    const png = decode(viz.filters(conv, join(dir, 'deep-filters.png'), { scale: 4 }));
    expect(variance(png)).toBeGreaterThan(0);
    const cs = colours(png);
    expect(cs.has(colorAt('rdbu', 0).join(','))).toBe(true);   // the most negative tap (or the bar's end)
    expect(cs.has(colorAt('rdbu', 1).join(','))).toBe(true);
  });

  it('bad arguments', () => {
    expect(() => viz.filters(randn([4, 3, 3]), join(dir, 'x.png'))).toThrow(/viz.filters: weight must be \[outC, inC, kH, kW\], got shape \[4,3,3\]/);
    expect(() => viz.filters(randn([4, 2, 3, 3]), join(dir, 'x.png'), { mode: 'rgb' })).toThrow(/mode 'rgb' needs 3 input channels, got weight shape \[4,2,3,3\]/);
    expect(() => viz.filters(new nn.ReLU() as never, join(dir, 'x.png'))).toThrow(/viz.filters: weight must be a Tensor, got ReLU/);
  });
});

describe('viz.receptiveField', () => {
  it("LeNet-5's fields 5, 6, 14, 16 drawn to scale around the centre unit", () => {
    manualSeed(1);
    const net = models.lenet5();
    const p = viz.receptiveField(net, [1, 28, 28], join(dir, 'rf.svg'), { scale: 8 });
    const svg = readFileSync(p, 'utf8');
    const boxes = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none" stroke="rgb\([^)]*\)" stroke-width="2"/g)]
      .map((m) => m.slice(1).map(Number));
    // Outline k is inset by k % 3 px and drawn with a 2 px stroke (1 px inside its edge).
    const sizes = boxes.map(([, , w], k) => (w + 2 + 2 * (k % 3)) / 8);
    expect(sizes).toEqual([5, 6, 14, 16]);
    expect(svg).toContain('field 16x16, jump 4, unit (2,2) of 5x5');
    const png = decode(viz.receptiveField(net, [1, 28, 28], join(dir, 'rf.png')));
    expect(variance(png)).toBeGreaterThan(0);
  });

  it('three 3x3 convolutions see 7x7, as one 7x7 does', () => {
    const three = new nn.Sequential(new nn.Conv2d(1, 1, 3), new nn.Conv2d(1, 1, 3), new nn.Conv2d(1, 1, 3));
    const svg = readFileSync(viz.receptiveField(three, [1, 9, 9], join(dir, 'rf3.svg')), 'utf8');
    expect(svg).toContain('field 3x3, jump 1');
    expect(svg).toContain('field 5x5, jump 1');
    expect(svg).toContain('field 7x7, jump 1, unit (1,1) of 3x3');
  });

  it('bad arguments', () => {
    expect(() => viz.receptiveField({} as never, [1, 8, 8], join(dir, 'x.png'))).toThrow(/viz.receptiveField: module must be a Module, got Object/);
    expect(() => viz.receptiveField(new nn.ReLU(), [1, 8, 8], join(dir, 'x.png'))).toThrow(/ReLU has no convolution or pooling layer/);
    expect(() => viz.receptiveField(new nn.Conv2d(1, 1, 3), [8, 8], join(dir, 'x.png'))).toThrow(/inputShape must be \[C, H, W\] or \[N, C, H, W\]/);
  });
});

describe('viz.history', () => {
  const stats = (n: number, val: boolean): EpochStats[] => Array.from({ length: n }, (_, i) => ({
    epoch: i + 1, loss: 2 / (i + 1), accuracy: 0.5 + 0.1 * i, seconds: 1, iterations: 10, samplesPerSecond: 100,
    ...(val ? { valLoss: 2.2 / (i + 1), valAccuracy: 0.45 + 0.1 * i } : {}),
  }));

  it('loss and accuracy panels, train solid blue and validation dashed orange', () => {
    const png = decode(viz.history(stats(5, true), join(dir, 'hist.png')));
    expect([png.width, png.height]).toEqual([760, 314]);
    expect(variance(png)).toBeGreaterThan(0);
    const cs = colours(png);
    expect(cs.has('31,119,180')).toBe(true);
    expect(cs.has('255,127,14')).toBe(true);
  });

  it('without validation data only the train curve is drawn; one epoch works', () => {
    const cs = colours(decode(viz.history(stats(1, false), join(dir, 'hist1.png'))));
    expect(cs.has('31,119,180')).toBe(true);
    expect(cs.has('255,127,14')).toBe(false);
    const svg = readFileSync(viz.history(stats(3, false), join(dir, 'hist.svg')), 'utf8');
    expect(svg).toContain('>accuracy</text>');
    expect(svg).not.toContain('>validation</text>');
  });

  it('bad arguments', () => {
    expect(() => viz.history([], join(dir, 'x.png'))).toThrow(/viz.history: history must be a non-empty array/);
    expect(() => viz.history([{ epoch: 1, loss: NaN, accuracy: 0.5 }] as never, join(dir, 'x.png'))).toThrow(/history\[0\].loss must be a finite number/);
  });
});

describe('number labels', () => {
  it('niceTicks steps by 1, 2 or 5 times a power of ten inside the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-2.2, 2.34, 5)).toEqual([-2, -1, 0, 1, 2]);
    expect(niceTicks(0.13, 0.97, 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(3, 3)).toEqual([3]);
    expect(formatValue(0.123456)).toBe('0.123');
    expect(formatValue(37752832)).toBe('3.8e7');
    expect(formatValue(-12)).toBe('-12');
  });
});

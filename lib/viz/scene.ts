/**
 * A picture described once as a list of shapes, then written as a PNG (rasterised here, labels in
 * the 5x7 font of ./font, encoded by pngjs) or as an SVG (vector shapes, real text, pixel tiles as
 * embedded PNGs drawn unsmoothed). Coordinates are pixels from the top-left corner.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PNG } from 'pngjs';
import { ADVANCE, GLYPH_H, GLYPH_W, glyph, textWidth } from './font';

export type RGB = [number, number, number];

type Shape =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; fill?: RGB; stroke?: RGB; width: number; dash: boolean }
  | { kind: 'pixels'; x: number; y: number; cols: number; rows: number; cell: number; rgb: Uint8Array }
  | { kind: 'line'; points: [number, number][]; color: RGB; width: number; dash: boolean }
  | { kind: 'text'; x: number; y: number; text: string; size: number; color: RGB; anchor: 'start' | 'middle' | 'end' };

export class Scene {
  private readonly shapes: Shape[] = [];

  constructor(readonly width: number, readonly height: number, readonly background: RGB = [255, 255, 255]) {}

  rect(x: number, y: number, w: number, h: number, o: { fill?: RGB; stroke?: RGB; width?: number; dash?: boolean }): void {
    this.shapes.push({ kind: 'rect', x, y, w, h, fill: o.fill, stroke: o.stroke, width: o.width ?? 1, dash: o.dash ?? false });
  }

  /** A cols x rows grid of RGB cells (rgb row-major, 3 bytes a cell), each cell x cell pixels. */
  pixels(x: number, y: number, cols: number, rows: number, cell: number, rgb: Uint8Array): void {
    this.shapes.push({ kind: 'pixels', x, y, cols, rows, cell, rgb });
  }

  line(points: [number, number][], color: RGB, o: { width?: number; dash?: boolean } = {}): void {
    this.shapes.push({ kind: 'line', points, color, width: o.width ?? 1, dash: o.dash ?? false });
  }

  /** Text whose top edge is y; size is the font's integer scale (1: 7 px capitals). */
  text(x: number, y: number, text: string, o: { size?: number; color?: RGB; anchor?: 'start' | 'middle' | 'end' } = {}): void {
    this.shapes.push({ kind: 'text', x, y, text, size: o.size ?? 1, color: o.color ?? [0, 0, 0], anchor: o.anchor ?? 'start' });
  }

  /** Writes the picture to path: SVG when it ends in .svg (any case), PNG otherwise. Returns path. */
  write(path: string): string {
    const dir = dirname(path);
    if (dir) mkdirSync(dir, { recursive: true });
    if (/\.svg$/i.test(path)) writeFileSync(path, this.svg());
    else writeFileSync(path, this.png());
    return path;
  }

  png(): Buffer {
    const r = new Raster(this.width, this.height, this.background);
    for (const s of this.shapes) {
      if (s.kind === 'rect') {
        if (s.fill) r.fill(s.x, s.y, s.w, s.h, s.fill);
        if (s.stroke) {
          const pts: [number, number][] = [[s.x, s.y], [s.x + s.w - 1, s.y], [s.x + s.w - 1, s.y + s.h - 1], [s.x, s.y + s.h - 1], [s.x, s.y]];
          r.polyline(pts, s.stroke, s.width, s.dash);
        }
      } else if (s.kind === 'pixels') {
        for (let j = 0; j < s.rows; j++) {
          for (let i = 0; i < s.cols; i++) {
            const o = 3 * (j * s.cols + i);
            r.fill(s.x + i * s.cell, s.y + j * s.cell, s.cell, s.cell, [s.rgb[o], s.rgb[o + 1], s.rgb[o + 2]]);
          }
        }
      } else if (s.kind === 'line') {
        r.polyline(s.points, s.color, s.width, s.dash);
      } else {
        const w = textWidth(s.text, s.size);
        const x0 = s.anchor === 'start' ? s.x : s.anchor === 'middle' ? s.x - w / 2 : s.x - w;
        r.text(Math.round(x0), Math.round(s.y), s.text, s.size, s.color);
      }
    }
    return r.encode();
  }

  svg(): string {
    const col = (c: RGB): string => `rgb(${c[0]},${c[1]},${c[2]})`;
    const n = (v: number): string => String(Math.round(v * 100) / 100);
    const out = [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}">`,
      `<rect width="100%" height="100%" fill="${col(this.background)}"/>`,
    ];
    for (const s of this.shapes) {
      if (s.kind === 'rect') {
        // A raster rect of w pixels covers [x, x + w); an SVG stroke is centred on its edge.
        const inset = s.stroke ? s.width / 2 : 0;
        out.push(`<rect x="${n(s.x + inset)}" y="${n(s.y + inset)}" width="${n(s.w - 2 * inset)}" height="${n(s.h - 2 * inset)}" ` +
          `fill="${s.fill ? col(s.fill) : 'none'}"${s.stroke ? ` stroke="${col(s.stroke)}" stroke-width="${s.width}"` : ''}` +
          `${s.dash ? ' stroke-dasharray="4 3"' : ''}/>`);
      } else if (s.kind === 'pixels') {
        const png = new PNG({ width: s.cols, height: s.rows });
        for (let i = 0; i < s.cols * s.rows; i++) {
          png.data[4 * i] = s.rgb[3 * i];
          png.data[4 * i + 1] = s.rgb[3 * i + 1];
          png.data[4 * i + 2] = s.rgb[3 * i + 2];
          png.data[4 * i + 3] = 255;
        }
        const uri = `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
        out.push(`<image x="${n(s.x)}" y="${n(s.y)}" width="${s.cols * s.cell}" height="${s.rows * s.cell}" ` +
          `preserveAspectRatio="none" style="image-rendering:pixelated" href="${uri}"/>`);
      } else if (s.kind === 'line') {
        const pts = s.points.map(([x, y]) => `${n(x + 0.5)},${n(y + 0.5)}`).join(' ');
        out.push(`<polyline points="${pts}" fill="none" stroke="${col(s.color)}" stroke-width="${s.width}"` +
          `${s.dash ? ' stroke-dasharray="4 3"' : ''} stroke-linejoin="round"/>`);
      } else {
        // Monospace at 10 px per scale step: 6 px advance, capitals about 7 px, as the bitmap font.
        const anchor = s.anchor === 'start' ? 'start' : s.anchor === 'middle' ? 'middle' : 'end';
        out.push(`<text x="${n(s.x)}" y="${n(s.y + GLYPH_H * s.size)}" font-family="DejaVu Sans Mono, Menlo, monospace" ` +
          `font-size="${10 * s.size}" text-anchor="${anchor}" fill="${col(s.color)}">${escapeXml(s.text)}</text>`);
      }
    }
    out.push('</svg>');
    return out.join('\n') + '\n';
  }
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An RGB pixel buffer with the few drawing operations the pictures need. */
class Raster {
  private readonly data: Uint8Array;

  constructor(readonly width: number, readonly height: number, bg: RGB) {
    this.data = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.data.set(bg, 3 * i);
  }

  set(x: number, y: number, c: RGB): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.data.set(c, 3 * (y * this.width + x));
  }

  fill(x: number, y: number, w: number, h: number, c: RGB): void {
    const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w)), y1 = Math.min(this.height, Math.round(y + h));
    for (let j = y0; j < y1; j++) for (let i = x0; i < x1; i++) this.data.set(c, 3 * (j * this.width + i));
  }

  /** Straight segments with a square brush of `width` pixels; dashes of 4 on, 3 off. */
  polyline(points: [number, number][], c: RGB, width: number, dash: boolean): void {
    let step = 0;
    const lo = -Math.floor((width - 1) / 2), hi = lo + width - 1;
    for (let k = 1; k < points.length; k++) {
      let x0 = Math.round(points[k - 1][0]), y0 = Math.round(points[k - 1][1]);
      const x1 = Math.round(points[k][0]), y1 = Math.round(points[k][1]);
      const dx = Math.abs(x1 - x0), dy = -Math.abs(y1 - y0);
      const sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
      let err = dx + dy;
      for (;;) {
        if (!dash || step % 7 < 4) for (let a = lo; a <= hi; a++) for (let b = lo; b <= hi; b++) this.set(x0 + a, y0 + b, c);
        step++;
        if (x0 === x1 && y0 === y1) break;
        const e2 = 2 * err;
        if (e2 >= dy) { err += dy; x0 += sx; }
        if (e2 <= dx) { err += dx; y0 += sy; }
      }
    }
  }

  text(x: number, y: number, s: string, k: number, c: RGB): void {
    for (let n = 0; n < s.length; n++) {
      const g = glyph(s[n]);
      const gx = x + n * ADVANCE * k;
      for (let j = 0; j < GLYPH_H; j++) {
        for (let i = 0; i < GLYPH_W; i++) if (g[j * GLYPH_W + i]) this.fill(gx + i * k, y + j * k, k, k, c);
      }
    }
  }

  encode(): Buffer {
    const png = new PNG({ width: this.width, height: this.height, colorType: 2, inputHasAlpha: false });
    png.data = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    return PNG.sync.write(png, { colorType: 2, inputHasAlpha: false });
  }
}

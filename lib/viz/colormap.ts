/**
 * Colour maps from [0, 1] to RGB, piecewise linear between anchors: viridis (matplotlib's default,
 * perceptually uniform, readable in grey), gray, and rdbu (diverging blue-white-red, for signed
 * values such as filter weights, with 0.5 as white).
 */
import type { RGB } from './scene';

export type ColormapName = 'viridis' | 'gray' | 'rdbu';

const ANCHORS: Record<ColormapName, RGB[]> = {
  viridis: [[68, 1, 84], [71, 45, 123], [59, 82, 139], [44, 114, 142], [33, 145, 140], [40, 174, 128], [94, 201, 98], [173, 220, 48], [253, 231, 37]],
  gray: [[0, 0, 0], [255, 255, 255]],
  rdbu: [[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247], [253, 219, 199], [239, 138, 98], [178, 24, 43]],
};

export const COLORMAPS = Object.keys(ANCHORS) as ColormapName[];

/** The colour of t in [0, 1] (clamped); NaN is magenta, so that it cannot pass for a value. */
export function colorAt(map: ColormapName, t: number): RGB {
  if (Number.isNaN(t)) return [255, 0, 255];
  const a = ANCHORS[map];
  const u = Math.min(1, Math.max(0, t)) * (a.length - 1);
  const i = Math.min(a.length - 2, Math.floor(u));
  const f = u - i;
  return [0, 1, 2].map((k) => Math.round(a[i][k] + f * (a[i + 1][k] - a[i][k]))) as RGB;
}

/** Black or white, whichever reads better on c. */
export function inkOn(c: RGB): RGB {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] > 140 ? [0, 0, 0] : [255, 255, 255];
}

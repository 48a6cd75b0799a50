/** Comparison helpers that report shapes, the worst element and its error against the tolerance. */
import { shapeStr } from './data';

export interface CloseReport {
  ok: boolean;
  message: string;
  maxErr: number;
}

function multiIndex(i: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) { idx.unshift(i % shape[d]); i = Math.floor(i / shape[d]); }
  return `[${idx.join(',')}]`;
}

/**
 * Every element must satisfy |got - ref| <= tol(i) (NaN anywhere fails). Returns a report whose
 * message names the context, the shape, how many elements failed, and the worst offender.
 */
export function compare(got: ArrayLike<number>, ref: ArrayLike<number>, shape: readonly number[],
  tol: (i: number) => number, context: string): CloseReport {
  if (got.length !== ref.length) {
    return { ok: false, maxErr: Infinity, message: `${context}: length ${got.length} != reference ${ref.length} (shape ${shapeStr(shape)})` };
  }
  let bad = 0, worst = -1, worstRatio = 0, maxErr = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - ref[i]);
    const t = tol(i);
    const isBad = !(e <= t) && !(got[i] === ref[i]); // !(e <= t) also catches NaN
    if (e > maxErr || Number.isNaN(e)) maxErr = Number.isNaN(e) ? NaN : Math.max(maxErr, e);
    if (isBad) {
      bad++;
      const ratio = Number.isNaN(e) ? Infinity : e / t;
      if (worst < 0 || ratio > worstRatio) { worst = i; worstRatio = ratio; }
    }
  }
  if (bad === 0) return { ok: true, maxErr, message: `${context}: ok (max err ${maxErr.toExponential(2)})` };
  return {
    ok: false, maxErr,
    message: `${context}: ${bad}/${got.length} elements out of tolerance (shape ${shapeStr(shape)}); ` +
      `worst at ${multiIndex(worst, shape)}: got ${got[worst]}, ref ${ref[worst]}, err ${Math.abs(got[worst] - ref[worst]).toExponential(3)} ` +
      `> tol ${tol(worst).toExponential(3)}; max err ${maxErr}`,
  };
}

/** First index where two float32 arrays differ bitwise (NaN == NaN), or -1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

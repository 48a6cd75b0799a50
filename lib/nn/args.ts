/** Constructor-argument checks for layers: messages name the layer, the argument, expected vs got. */
import { describe } from '../errors';

export function posInt(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${layer}: '${name}' must be a positive integer, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${layer}: '${name}' must be a positive integer, got ${v}`);
  return v;
}

export function nonNegInt(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${layer}: '${name}' must be a non-negative integer, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${layer}: '${name}' must be a non-negative integer, got ${v}`);
  return v;
}

/** A number or [h, w] of integers >= min, as a pair. */
export function pair(layer: string, name: string, v: unknown, min: number): [number, number] {
  const one = (x: unknown, n: string) => (min >= 1 ? posInt(layer, n, x) : nonNegInt(layer, n, x));
  if (Array.isArray(v)) {
    if (v.length !== 2) throw new RangeError(`${layer}: '${name}' must be a number or [h, w], got an array of length ${v.length}`);
    return [one(v[0], `${name}[0]`), one(v[1], `${name}[1]`)];
  }
  const x = one(v, name);
  return [x, x];
}

export function options(layer: string, o: unknown): Record<string, unknown> {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object' || Array.isArray(o)) throw new TypeError(`${layer}: options must be an object, got ${describe(o)}`);
  return o as Record<string, unknown>;
}

export function boolOpt(layer: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`${layer}: '${name}' must be a boolean, got ${describe(v)}`);
  return v;
}

export function numOpt(layer: string, name: string, v: unknown, dflt: number, lo = -Infinity, hi = Infinity): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number') throw new TypeError(`${layer}: '${name}' must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v) || v < lo || v > hi) throw new RangeError(`${layer}: '${name}' must be a finite number in [${lo}, ${hi}], got ${v}`);
  return v;
}

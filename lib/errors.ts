/** Error helpers: every message starts with the op name and says what was expected and what came. */

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `an Array of length ${v.length}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}

export function rangeError(op: string, msg: string): RangeError {
  return new RangeError(`${op}: ${msg}`);
}

export function typeError(op: string, msg: string): TypeError {
  return new TypeError(`${op}: ${msg}`);
}

/**
 * A minimal protobuf wire-format reader and writer (just what ONNX's ModelProto needs).
 *
 * The reader treats its input as hostile: every read is bounds-checked against the end of the
 * current message, lengths are checked against the bytes that remain before anything is sliced
 * or allocated, and every failure is an `Error('loadOnnx: ...')`. Sub-messages are zero-copy
 * views (subarray) of the input.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export function fail(msg: string): never {
  throw new Error(`loadOnnx: ${msg}`);
}

const TWO32 = 4294967296;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export class Reader {
  pos = 0;
  private readonly view: DataView;

  constructor(readonly buf: Uint8Array, readonly what = 'message') {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get end(): number {
    return this.buf.length;
  }

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number, kind: string): void {
    if (n > this.buf.length - this.pos) {
      fail(`truncated ${this.what}: ${kind} at byte ${this.pos} needs ${n} bytes but only ${this.buf.length - this.pos} remain`);
    }
  }

  /**
   * A varint as [low 32 bits, high 32 bits] (unsigned). Protobuf allows at most 10 bytes; the
   * tenth may only carry the 64th bit.
   */
  private varint64(): [number, number] {
    let lo = 0, hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) fail(`truncated ${this.what}: varint runs past the end at byte ${this.pos}`);
      const b = this.buf[this.pos++];
      if (i < 4) lo += (b & 0x7f) * 2 ** (7 * i);
      else if (i === 4) { lo += (b & 0x0f) * 2 ** 28; hi += (b & 0x70) >>> 4; }
      else hi += (b & 0x7f) * 2 ** (7 * i - 32);
      if ((b & 0x80) === 0) {
        if (i === 9 && b > 1) fail(`malformed varint in ${this.what} at byte ${this.pos - 1}: more than 64 bits`);
        return [lo >>> 0, hi >>> 0];
      }
    }
    return fail(`malformed varint in ${this.what} at byte ${this.pos}: longer than 10 bytes`);
  }

  /** An unsigned varint that must fit in a safe integer (lengths, tags). */
  uint(): number {
    const [lo, hi] = this.varint64();
    if (hi >= 0x200000) fail(`varint in ${this.what} at byte ${this.pos} is too large (${hi}*2^32+${lo})`);
    return hi * TWO32 + lo;
  }

  /**
   * An int64 as a JS number (two's complement). Values beyond 2^53 lose precision; callers that
   * need exact integers check Number.isSafeInteger.
   */
  int64(): number {
    const [lo, hi] = this.varint64();
    return (hi | 0) * TWO32 + lo;
  }

  /** An int32/enum field: the low 32 bits, signed (negatives are sign-extended to 10 bytes). */
  int32(): number {
    const [lo] = this.varint64();
    return lo | 0;
  }

  float(): number {
    this.need(4, 'fixed32');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8, 'fixed64');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A length-delimited field's bytes, as a view. */
  bytes(): Uint8Array {
    const start = this.pos;
    const n = this.uint();
    if (n > this.buf.length - this.pos) {
      fail(`truncated ${this.what}: length ${n} at byte ${start} runs past the end (${this.buf.length - this.pos} bytes remain)`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const b = this.bytes();
    try {
      return UTF8.decode(b);
    } catch {
      return fail(`invalid UTF-8 string in ${this.what}`);
    }
  }

  tag(): [field: number, wire: number] {
    const at = this.pos;
    const t = this.uint();
    const field = Math.floor(t / 8), wire = t & 7;
    if (field < 1 || field > 536870911) fail(`invalid field number ${field} in ${this.what} at byte ${at}`);
    return [field, wire];
  }

  skip(wire: number, field: number): void {
    switch (wire) {
      case WIRE_VARINT: this.varint64(); return;
      case WIRE_FIXED64: this.need(8, 'fixed64'); this.pos += 8; return;
      case WIRE_LEN: this.bytes(); return;
      case WIRE_FIXED32: this.need(4, 'fixed32'); this.pos += 4; return;
      default: fail(`unsupported wire type ${wire} for field ${field} in ${this.what} at byte ${this.pos}`);
    }
  }

  /** Fails unless the field has the expected wire type. */
  expect(wire: number, want: number, field: number, name: string): void {
    if (wire !== want) fail(`wrong wire type ${wire} for ${this.what}.${name} (field ${field}), expected ${want}`);
  }

  /** Appends a repeated varint-encoded field (packed or not) to out via read. */
  repeatedVarint(wire: number, field: number, name: string, out: number[], read: (r: Reader) => number): void {
    if (wire === WIRE_VARINT) { out.push(read(this)); return; }
    this.expect(wire, WIRE_LEN, field, name);
    const r = new Reader(this.bytes(), `${this.what}.${name}`);
    while (!r.done()) out.push(read(r));
  }

  /** Appends a repeated float field (packed or not). */
  repeatedFloat(wire: number, field: number, name: string, out: number[]): void {
    if (wire === WIRE_FIXED32) { out.push(this.float()); return; }
    this.expect(wire, WIRE_LEN, field, name);
    const b = this.bytes();
    if (b.length % 4 !== 0) fail(`packed ${this.what}.${name} has ${b.length} bytes, not a multiple of 4`);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < b.length; i += 4) out.push(dv.getFloat32(i, true));
  }
}

// ---- writer -----------------------------------------------------------------------------------

/** Builds a protobuf message by appending fields; nested messages are written from their bytes. */
export class Writer {
  private chunks: Uint8Array[] = [];
  private cur: number[] = [];
  private length = 0;

  private flush(): void {
    if (this.cur.length) {
      this.chunks.push(Uint8Array.from(this.cur));
      this.cur = [];
    }
  }

  private rawVarint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      this.cur.push(b);
      this.length++;
    } while (x !== 0n);
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** int32/int64/enum/bool fields. Negative values use the 10-byte two's complement form. */
  varint(field: number, v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`onnx writer: field ${field} value ${v} is not a safe integer`);
    this.tag(field, WIRE_VARINT);
    this.rawVarint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.cur.push(x);
    this.length += 4;
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.rawVarint(data.length);
    this.flush();
    this.chunks.push(data);
    this.length += data.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: Writer): void {
    this.bytes(field, m.finish());
  }

  packedVarint(field: number, values: readonly number[]): void {
    const w = new Writer();
    for (const v of values) {
      if (!Number.isSafeInteger(v)) throw new RangeError(`onnx writer: field ${field} value ${v} is not a safe integer`);
      w.rawVarint(v);
    }
    this.bytes(field, w.finish());
  }

  packedFloat(field: number, values: ArrayLike<number>): void {
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
    this.bytes(field, b);
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) { out.set(c, o); o += c.length; }
    return out;
  }
}

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { saveSafetensors, loadSafetensors, imageToTensor } from '../lib/io/index';
import { Tensor, tidy, liveStats } from '../lib/tensor';

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdcnn-io-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const file = (name: string): string => path.join(dir, name);

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** A safetensors file from its parts: the 8-byte length (default: the header's), header, data. */
function build(header: string | Buffer | object, data: Uint8Array | number[] = [], headerLen?: bigint): Buffer {
  const h = Buffer.isBuffer(header) ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLen ?? BigInt(h.length));
  return Buffer.concat([len, h, Buffer.from(data as Uint8Array)]);
}

function writeFile(name: string, bytes: Uint8Array): string {
  const p = file(name);
  fs.writeFileSync(p, bytes);
  return p;
}

function u16le(values: number[]): Uint8Array {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16LE(v, 2 * i));
  return b;
}

describe('saveSafetensors / loadSafetensors round trip', () => {
  it('keeps shapes and exact bits, including scalars, NaN payloads, -0 and subnormals', () => {
    const special = new Float32Array(8);
    new Uint32Array(special.buffer).set([0x7fc00001, 0xffa00000, 0x80000000, 0x00000001, 0x7f800000, 0xff800000, 0x3f800000, 0x807fffff]);
    const random = new Float32Array(2 * 3 * 4 * 5);
    let s = 12345;
    for (let i = 0; i < random.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      random[i] = (s / 2 ** 32 - 0.5) * 1000;
    }
    const record: Record<string, Tensor> = {
      scalar: Tensor.from([3.25], []),
      one: Tensor.from([-7], [1]),
      vec: Tensor.from(special, [8]),
      'features.0.weight': Tensor.from(random, [2, 3, 4, 5]),
      'features.0.bias': Tensor.from([1, 2, 3], [3]),
      mat: Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]),
      'empty.zero': Tensor.from([], [2, 0]),
    };
    const p = file('roundtrip.safetensors');
    saveSafetensors(record, p);
    const back = loadSafetensors(p);
    expect(Object.keys(back).sort()).toEqual(Object.keys(record).sort());
    for (const [k, t] of Object.entries(record)) {
      expect(back[k]).toBeInstanceOf(Tensor);
      expect(back[k].shape).toEqual(t.shape);
      expect(bits(back[k].toArray())).toEqual(bits(t.toArray()));
    }
    expect(back.scalar.item()).toBe(3.25);
    // The file is the exact size the format implies.
    const n = Number(fs.readFileSync(p).readBigUInt64LE(0));
    const dataBytes = Object.values(record).reduce((a, t) => a + 4 * t.size, 0);
    expect(fs.statSync(p).size).toBe(8 + n + dataBytes);
    expect(n % 8).toBe(0);
    // No temporary file is left beside it.
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('roundtrip.safetensors.'))).toEqual([]);
  });

  it('accepts anything with stateDict() and writes num_batches_tracked as I64 first', () => {
    const module = {
      stateDict: (): Record<string, Tensor> => ({
        'bn.weight': Tensor.from([1, 2], [2]),
        'bn.num_batches_tracked': Tensor.from([42], []),
        num_batches_tracked: Tensor.from([7], []),
        'a.weight': Tensor.from([0.5], [1]),
      }),
    };
    const p = file('module.safetensors');
    saveSafetensors(module, p, { metadata: null });
    const raw = fs.readFileSync(p);
    const n = Number(raw.readBigUInt64LE(0));
    const header = raw.subarray(8, 8 + n).toString('utf8');
    // I64 (larger alignment) before F32, each group in name order, data contiguous.
    expect(header.trimEnd()).toBe(
      '{"bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]},' +
      '"num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[8,16]},' +
      '"a.weight":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},' +
      '"bn.weight":{"dtype":"F32","shape":[2],"data_offsets":[20,28]}}',
    );
    expect(raw.readBigInt64LE(8 + n)).toBe(42n);
    expect(raw.readBigInt64LE(8 + n + 8)).toBe(7n);
    const back = loadSafetensors(p);
    expect(back['bn.num_batches_tracked'].item()).toBe(42);
    expect(back.num_batches_tracked.shape).toEqual([]);
    expect(Array.from(back['bn.weight'].toArray())).toEqual([1, 2]);
  });

  it('sorts names by UTF-8 bytes as the reference does, and round-trips odd names', () => {
    const record: Record<string, Tensor> = {};
    const names = ['\u{1F600}', '\uFF61', 'b', 'B', '', 'quote"back\\slash\nnl', '__proto__', 'constructor'];
    names.forEach((k, i) => {
      Object.defineProperty(record, k, { value: Tensor.from([i], [1]), enumerable: true });
    });
    const p = file('names.safetensors');
    saveSafetensors(record, p, { metadata: null });
    const raw = fs.readFileSync(p);
    const header = raw.subarray(8, 8 + Number(raw.readBigUInt64LE(0))).toString('utf8');
    expect(header.indexOf('"\uFF61"')).toBeLessThan(header.indexOf('"\u{1F600}"'));
    expect(header.indexOf('"B"')).toBeLessThan(header.indexOf('"b"'));
    const back = loadSafetensors(p);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    names.forEach((k, i) => {
      expect(Object.prototype.hasOwnProperty.call(back, k)).toBe(true);
      expect(back[k].item()).toBe(i);
    });
  });

  it('returns ordinary tensors (disposable, collected by tidy)', () => {
    const p = file('tidy.safetensors');
    saveSafetensors({ w: Tensor.from([1, 2, 3], [3]) }, p);
    const before = liveStats().tensors;
    tidy(() => {
      loadSafetensors(p);
    });
    expect(liveStats().tensors).toBe(before);
    const sd = loadSafetensors(p);
    expect(sd.w.persistent).toBe(false);
    sd.w.dispose();
    expect(sd.w.disposed).toBe(true);
  });

  it('overwrites an existing file atomically and validates its inputs', () => {
    const p = file('overwrite.safetensors');
    saveSafetensors({ a: Tensor.from([1], [1]) }, p);
    saveSafetensors({ b: Tensor.from([2, 3], [2]) }, p);
    expect(Object.keys(loadSafetensors(p))).toEqual(['b']);

    expect(() => saveSafetensors({ a: [1, 2] as unknown as Tensor }, p)).toThrow(TypeError);
    expect(() => saveSafetensors({ a: [1, 2] as unknown as Tensor }, p)).toThrow(/saveSafetensors.*'a'.*Tensor/);
    const gone = Tensor.from([1], [1]);
    gone.dispose();
    expect(() => saveSafetensors({ gone }, p)).toThrow(/saveSafetensors.*disposed/);
    expect(() => saveSafetensors({ __metadata__: Tensor.from([1], [1]) }, p)).toThrow(/reserved/);
    expect(() => saveSafetensors({ 'x.num_batches_tracked': Tensor.from([1.5], []) }, p)).toThrow(/I64.*integers/);
    expect(() => saveSafetensors({ ['\uD800']: Tensor.from([1], [1]) }, p)).toThrow(/surrogate/);
    expect(() => saveSafetensors(null as unknown as Record<string, Tensor>, p)).toThrow(TypeError);
    expect(() => saveSafetensors({ a: Tensor.from([1], [1]) }, '' as string)).toThrow(/path/);
    expect(() => saveSafetensors({ a: Tensor.from([1], [1]) }, p, { metadata: { k: 1 as unknown as string } })).toThrow(/metadata/);
    expect(() => saveSafetensors({ a: Tensor.from([1], [1]) }, path.join(dir, 'no-such-dir', 'x.safetensors'))).toThrow(/saveSafetensors: cannot write/);
    // The earlier file is intact after the failed saves.
    expect(Object.keys(loadSafetensors(p))).toEqual(['b']);
  });
});

describe('safetensors bytes match the format specification', () => {
  it('writes the 8-byte length, the compact JSON header padded with spaces, then raw LE data', () => {
    const p = file('spec.safetensors');
    saveSafetensors({ attn0: Tensor.from([0, 1, 2, 3, 4, 5], [1, 1, 2, 3]) }, p, { metadata: null });
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(65);
    const expected = [
      72, 0, 0, 0, 0, 0, 0, 0, // 65 bytes of JSON + 7 spaces = 72
      ...Buffer.from(json), 32, 32, 32, 32, 32, 32, 32,
      0, 0, 0, 0, /* 1.0f */ 0, 0, 0x80, 0x3f, /* 2.0f */ 0, 0, 0, 0x40, /* 3.0f */ 0, 0, 0x40, 0x40,
      /* 4.0f */ 0, 0, 0x80, 0x40, /* 5.0f */ 0, 0, 0xa0, 0x40,
    ];
    expect(Array.from(fs.readFileSync(p))).toEqual(expected);
  });

  it('writes __metadata__ first (default {"format":"pt"}) and an empty dict as "{}" + 6 spaces', () => {
    const p = file('meta.safetensors');
    saveSafetensors({ w: Tensor.from([1], [1]) }, p);
    const raw = fs.readFileSync(p);
    const json = '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    expect(raw.readBigUInt64LE(0)).toBe(BigInt(padded.length));
    expect(raw.subarray(8, 8 + padded.length).toString('latin1')).toBe(padded);
    expect(raw.length).toBe(8 + padded.length + 4);

    const e = file('empty.safetensors');
    saveSafetensors({}, e, { metadata: null });
    expect(Array.from(fs.readFileSync(e))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(loadSafetensors(e)).toEqual({});

    const m = file('meta2.safetensors');
    saveSafetensors({}, m, { metadata: { framework: 'pt' } });
    expect(fs.readFileSync(m).subarray(8).toString('latin1')).toBe('{"__metadata__":{"framework":"pt"}}     ');
  });

  it('reads hand-built files: any header order, __metadata__, null metadata, unknown fields, zero-size tensors', () => {
    const data = Buffer.alloc(12);
    data.writeFloatLE(1.5, 0);
    data.writeFloatLE(-2, 4);
    data.writeFloatLE(8, 8);
    const p = writeFile('handmade.safetensors', build(
      '  {"b":{"shape":[1],"data_offsets":[8,12],"dtype":"F32","extra":[1,{"x":null}]},' +
      '"__metadata__":{"format":"pt","note":"h\\u00e9llo"},' +
      '"z":{"dtype":"F32","shape":[0,5],"data_offsets":[8,8]},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}\t\r\n ', data));
    const sd = loadSafetensors(p);
    expect(Object.keys(sd)).toEqual(['a', 'b', 'z']);
    expect(Array.from(sd.a.toArray())).toEqual([1.5, -2]);
    expect(Array.from(sd.b.toArray())).toEqual([8]);
    expect(sd.z.shape).toEqual([0, 5]);
    const q = writeFile('nullmeta.safetensors', build('{"__metadata__":null}'));
    expect(loadSafetensors(q)).toEqual({});
    // An unpadded header (N not a multiple of 8) leaves the data unaligned; it still loads.
    const odd = Buffer.alloc(8);
    odd.writeDoubleLE(0.1, 0);
    const r = writeFile('odd.safetensors', build('{"x":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}', odd));
    expect(loadSafetensors(r).x.item()).toBe(Math.fround(0.1));
  });
});

describe('loadSafetensors decodes every dtype', () => {
  it('F16: normals, subnormals, infinities, NaN (payload kept), signed zero', () => {
    const halves = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x7e01, 0x8000, 0x3555, 0x3800];
    const p = writeFile('f16.safetensors', build({ h: { dtype: 'F16', shape: [3, 4], data_offsets: [0, 24] } }, u16le(halves)));
    const t = loadSafetensors(p).h;
    expect(t.shape).toEqual([3, 4]);
    const v = t.toArray();
    expect(Array.from(v.slice(0, 8))).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, Infinity, -Infinity]);
    expect(bits(v)[8]).toBe(0x7fc02000); // quiet NaN, payload 0x201 shifted by 13
    expect(Object.is(v[9], -0)).toBe(true);
    expect(v[10]).toBe(0.333251953125); // 0x3555 = 1365/4096
    expect(v[11]).toBe(0.5);
  });

  it('BF16: the upper half of a float32', () => {
    const p = writeFile('bf16.safetensors', build(
      { b: { dtype: 'BF16', shape: [5], data_offsets: [0, 10] } }, u16le([0x3f80, 0x4049, 0xc2f7, 0x0001, 0xff81])));
    const v = loadSafetensors(p).b.toArray();
    expect(Array.from(v.slice(0, 4))).toEqual([1, 3.140625, -123.5, 2 ** -133]);
    expect(bits(v)[4]).toBe(0xff810000);
  });

  it('I64 and U64: exact values, and one correct rounding to float32 beyond 2^53', () => {
    const i64 = [0n, -1n, 1234567n, 2n ** 53n + 1n, 2n ** 62n + 2n ** 38n + 1n, -(2n ** 63n), 2n ** 63n - 1n, 16777217n];
    const d = Buffer.alloc(8 * i64.length);
    i64.forEach((v, i) => d.writeBigInt64LE(v, 8 * i));
    const u = Buffer.alloc(16);
    u.writeBigUInt64LE(2n ** 64n - 1n, 0);
    u.writeBigUInt64LE(2n ** 63n + 2n ** 39n + 2n ** 38n, 8);
    const p = writeFile('i64.safetensors', build({
      i: { dtype: 'I64', shape: [8], data_offsets: [0, 64] },
      u: { dtype: 'U64', shape: [2], data_offsets: [64, 80] },
    }, Buffer.concat([d, u])));
    const sd = loadSafetensors(p);
    // 2^62 + 2^38 + 1 sits just above a float32 tie: rounding to double first would land on the
    // tie and round down to 2^62; the correct result rounds up.
    expect(Array.from(sd.i.toArray())).toEqual([0, -1, 1234567, 2 ** 53, 2 ** 62 + 2 ** 39, -(2 ** 63), 2 ** 63, 16777216]);
    expect(Array.from(sd.u.toArray())).toEqual([2 ** 64, 2 ** 63 + 2 ** 40]);
  });

  it('F64, I32, U32, I16, U16, I8, U8, BOOL', () => {
    const f64 = Buffer.alloc(24);
    [0.1, -1e300, 5e-324].forEach((v, i) => f64.writeDoubleLE(v, 8 * i));
    const i32 = Buffer.alloc(12);
    [-2147483648, 16777217, 7].forEach((v, i) => i32.writeInt32LE(v, 4 * i));
    const u32 = Buffer.alloc(4);
    u32.writeUInt32LE(4294967295, 0);
    const i16 = Buffer.alloc(4);
    i16.writeInt16LE(-32768, 0);
    i16.writeInt16LE(300, 2);
    const u16 = u16le([65535]);
    const i8 = Buffer.from([0x80, 0x7f, 0xff]);
    const u8 = Buffer.from([0, 200, 255]);
    const bool = Buffer.from([0, 1, 2]);
    let off = 0;
    const entry = (dtype: string, shape: number[], bytes: Uint8Array) => {
      const e = { dtype, shape, data_offsets: [off, off + bytes.length] };
      off += bytes.length;
      return e;
    };
    const header = {
      f64: entry('F64', [3], f64), i32: entry('I32', [3], i32), u32: entry('U32', [1], u32),
      i16: entry('I16', [2], i16), u16: entry('U16', [1], u16), i8: entry('I8', [3], i8),
      u8: entry('U8', [1, 3], u8), bool: entry('BOOL', [3], bool),
    };
    const p = writeFile('ints.safetensors', build(header, Buffer.concat([f64, i32, u32, i16, u16, i8, u8, bool])));
    const sd = loadSafetensors(p);
    expect(Array.from(sd.f64.toArray())).toEqual([Math.fround(0.1), -Infinity, 0]);
    expect(Array.from(sd.i32.toArray())).toEqual([-2147483648, 16777216, 7]);
    expect(Array.from(sd.u32.toArray())).toEqual([4294967296]);
    expect(Array.from(sd.i16.toArray())).toEqual([-32768, 300]);
    expect(Array.from(sd.u16.toArray())).toEqual([65535]);
    expect(Array.from(sd.i8.toArray())).toEqual([-128, 127, -1]);
    expect(sd.u8.shape).toEqual([1, 3]);
    expect(Array.from(sd.u8.toArray())).toEqual([0, 200, 255]);
    expect(Array.from(sd.bool.toArray())).toEqual([0, 1, 1]);
  });

  it('converts tensors larger than one read chunk', () => {
    const n = 700_000; // 1.4 MB of F16: more than one 1 MiB chunk
    const h = new Uint16Array(n);
    for (let i = 0; i < n; i++) h[i] = i % 2048; // 0 .. 2047 * 2^-24 (subnormals and small normals)
    const p = writeFile('big16.safetensors', build({ h: { dtype: 'F16', shape: [n], data_offsets: [0, 2 * n] } },
      new Uint8Array(h.buffer)));
    const v = loadSafetensors(p).h.toArray();
    for (const i of [0, 1, 1023, 1024, 2047, 524287, 524288, 524289, n - 1]) {
      const x = i % 2048;
      expect(v[i]).toBe(x < 1024 ? x * 2 ** -24 : (1 + (x - 1024) / 1024) * 2 ** -14);
    }
  });
});

describe('loadSafetensors refuses malformed and hostile files', () => {
  const f32 = (shape: number[], offsets: unknown) => ({ dtype: 'F32', shape, data_offsets: offsets });
  const eight = new Uint8Array(8);
  const cases: [string, () => Buffer, RegExp][] = [
    ['empty file', () => Buffer.alloc(0), /shorter than the 8-byte/],
    ['7 bytes', () => Buffer.from([1, 0, 0, 0, 0, 0, 0]), /shorter than the 8-byte/],
    ['header length 2^64-1', () => build('{}', [], 2n ** 64n - 1n), /over the 100 MB limit/],
    ['header length just over 100 MB', () => build('{}', [], 100_000_001n), /over the 100 MB limit/],
    ['header length past the end', () => build('{}', [], 1000n), /runs past the end of the file/],
    ['invalid UTF-8', () => build(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), /header is not valid UTF-8/],
    ['overlong UTF-8', () => build(Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d])), /header is not valid UTF-8/],
    ['bad JSON', () => build('{"a":', []), /not valid JSON/],
    ['trailing comma', () => build('{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],}}', eight.subarray(0, 4)), /not valid JSON/],
    ['JSON array', () => build('[]'), /must be a JSON object, got an array/],
    ['JSON string', () => build('"x"'), /must be a JSON object, got the string/],
    ['trailing characters', () => build('{} x'), /trailing characters/],
    ['byte-order mark', () => build('\uFEFF{}'), /not valid JSON/],
    ['deep nesting', () => build('{"a":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}'), /nesting deeper/],
    ['lone surrogate escape', () => build('{"\\ud800":1}'), /surrogate/],
    ['entry not an object', () => build({ a: [1, 2] }), /"a": entry must be an object/],
    ['missing dtype', () => build({ a: { shape: [1], data_offsets: [0, 4] } }, eight.subarray(0, 4)), /"a": missing "dtype"/],
    ['missing shape', () => build({ a: { dtype: 'F32', data_offsets: [0, 4] } }, eight.subarray(0, 4)), /missing "shape"/],
    ['missing data_offsets', () => build({ a: { dtype: 'F32', shape: [1] } }, eight.subarray(0, 4)), /missing "data_offsets"/],
    ['dtype not a string', () => build({ a: { dtype: 5, shape: [1], data_offsets: [0, 4] } }, eight.subarray(0, 4)), /"dtype" must be a string/],
    ['unknown dtype', () => build({ a: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }, eight.subarray(0, 4)), /unknown dtype "F33"/],
    ['unsupported dtype', () => build({ a: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, eight.subarray(0, 4)), /F8_E4M3 is not supported/],
    ['shape not an array', () => build({ a: f32(3 as unknown as number[], [0, 4]) }, eight.subarray(0, 4)), /"shape" must be an array/],
    ['negative dim', () => build({ a: f32([-1], [0, 4]) }, eight.subarray(0, 4)), /must not be negative/],
    ['fractional dim', () => build('{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,4]}}', eight.subarray(0, 4)), /must be an integer, got 2.5/],
    ['exponent dim', () => build('{"a":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}', eight.subarray(0, 4)), /must be an integer, got 1e0/],
    ['string dim', () => build({ a: f32(['1'] as unknown as number[], [0, 4]) }, eight.subarray(0, 4)), /must be an integer, got the string/],
    ['huge dim', () => build('{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}', eight.subarray(0, 4)), /too large/],
    ['dim over 2^31-1', () => build({ a: f32([2 ** 31], [0, 4]) }, eight.subarray(0, 4)), /over 2\^31-1/],
    ['element count over 2^31-1', () => build({ a: f32([65536, 65536], [0, 4]) }, eight.subarray(0, 4)), /more than 2\^31-1 elements/],
    ['byte size does not match', () => build({ a: f32([2, 3], [0, 8]) }, eight), /needs 24 bytes but data_offsets \[0,8\] hold 8/],
    ['data_offsets of length 3', () => build({ a: f32([1], [0, 4, 8]) }, eight.subarray(0, 4)), /array \[begin, end\], got an array of length 3/],
    ['data_offsets not an array', () => build({ a: f32([1], 4) }, eight.subarray(0, 4)), /"data_offsets" must be an array/],
    ['data_offsets as strings', () => build({ a: f32([1], ['0', '4']) }, eight.subarray(0, 4)), /data_offsets begin must be an integer/],
    ['end before begin', () => build({ a: f32([0], [4, 0]) }, eight.subarray(0, 4)), /end before they begin/],
    ['data not starting at 0', () => build({ a: f32([1], [4, 8]) }, eight), /gap .*must start at offset 0/],
    ['gap between tensors', () => build({ a: f32([1], [0, 4]), b: f32([1], [8, 12]) }, new Uint8Array(12)), /"b".*leave a gap at bytes \[4,8\)/],
    ['overlapping tensors', () => build({ a: f32([2], [0, 8]), b: f32([1], [4, 8]) }, eight), /overlap the previous tensor/],
    ['same offsets twice', () => build({ a: f32([1], [0, 4]), b: f32([1], [0, 4]) }, eight.subarray(0, 4)), /overlap/],
    ['offsets past the end of the file', () => build({ a: f32([4], [0, 16]) }, eight), /run past the end of the file/],
    ['huge offsets', () => build({ a: f32([1], [2 ** 50, 2 ** 50 + 4]) }, eight.subarray(0, 4)), /run past the end of the file/],
    ['trailing bytes', () => build({ a: f32([1], [0, 4]) }, eight), /4 trailing bytes after the last tensor/],
    ['data but no tensors', () => build('{}', [1]), /1 trailing bytes/],
    ['duplicate tensor keys', () => build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', eight), /duplicate key "a"/],
    ['duplicate field in an entry', () => build('{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}', eight.subarray(0, 4)), /duplicate key "dtype"/],
    ['__metadata__ with a number', () => build({ __metadata__: { n: 1 } }), /__metadata__ value for "n" must be a string/],
    ['__metadata__ not an object', () => build({ __metadata__: 'x' }), /__metadata__ must be an object/],
  ];

  it(`has a large matrix (${cases.length} files)`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const [name, make, pattern] of cases) {
    it(name, () => {
      const p = writeFile(`hostile-${name.replace(/\W+/g, '-')}.safetensors`, make());
      const before = liveStats();
      let err: unknown = null;
      try {
        loadSafetensors(p);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      const msg = (err as Error).message;
      expect(msg.startsWith('loadSafetensors: ')).toBe(true);
      expect(msg).toMatch(pattern);
      expect(liveStats()).toEqual(before); // nothing allocated and left behind
    });
  }

  it('refuses a directory and a missing file', () => {
    expect(() => loadSafetensors(dir)).toThrow(/^loadSafetensors: not a regular file/);
    expect(() => loadSafetensors(file('does-not-exist.safetensors'))).toThrow(/^loadSafetensors: cannot open .*ENOENT/);
    expect(() => loadSafetensors(42 as unknown as string)).toThrow(TypeError);
  });

  it('really refuses invalid UTF-8 bytes in the header', () => {
    const h = Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x6e, 0x75, 0x6c, 0x6c, 0x7d]); // {"\xC3(":null}
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    const p = writeFile('bad-utf8.safetensors', Buffer.concat([len, h]));
    expect(() => loadSafetensors(p)).toThrow(/^loadSafetensors: header is not valid UTF-8/);
  });

  it('still works after the whole matrix (the process lives on)', () => {
    const p = file('after.safetensors');
    saveSafetensors({ ok: Tensor.from([1, 2], [2]) }, p);
    expect(Array.from(loadSafetensors(p).ok.toArray())).toEqual([1, 2]);
  });
});

describe('imageToTensor', () => {
  // 2x2 RGB, interleaved: (0,51,255) (255,0,51) (102,204,0) (1,2,3)
  const hwc = new Uint8Array([0, 51, 255, 255, 0, 51, 102, 204, 0, 1, 2, 3]);
  const f = Math.fround;

  it('hwc -> [1, C, H, W] scaled by 1/255', () => {
    const t = imageToTensor(hwc, { height: 2, width: 2, channels: 3 });
    expect(t.shape).toEqual([1, 3, 2, 2]);
    expect(Array.from(t.toArray())).toEqual([
      0, 1, f(0.4), f(1 / 255), // R plane
      f(0.2), 0, f(0.8), f(2 / 255), // G plane
      1, f(0.2), 0, f(3 / 255), // B plane
    ]);
  });

  it('chw input gives the same tensor as its hwc transpose', () => {
    const chw = new Uint8Array([0, 255, 102, 1, 51, 0, 204, 2, 255, 51, 0, 3]);
    const a = imageToTensor(chw, { height: 2, width: 2, channels: 3, layout: 'chw' }).toArray();
    const b = imageToTensor(hwc, { height: 2, width: 2, channels: 3 }).toArray();
    expect(bits(a)).toEqual(bits(b));
  });

  it('normalises with per-channel mean and std, in float32 steps like ToTensor + Normalize', () => {
    const t = imageToTensor(hwc, { height: 2, width: 2, channels: 3, mean: [0.5, 0, 1], std: [0.5, 2, 0.25] });
    const v = t.toArray();
    // R: (p/255 - 0.5) / 0.5
    expect(v[0]).toBe(-1);
    expect(v[1]).toBe(1);
    expect(v[2]).toBe(f(f(f(0.4) - 0.5) / 0.5));
    expect(v[2]).toBeCloseTo(-0.2, 6);
    // G: (p/255) / 2
    expect(v[4]).toBe(f(0.2) / 2);
    expect(v[6]).toBe(f(0.8) / 2);
    // B: (p/255 - 1) / 0.25
    expect(v[8]).toBe(0);
    expect(v[10]).toBe(-4);
    expect(v[9]).toBeCloseTo(-3.2, 5);
    // Non-representable mean/std are rounded to float32 first, as torch.as_tensor(mean) does.
    const g = imageToTensor(new Uint8Array([128]), { height: 1, width: 1, channels: 1, mean: 0.485, std: 0.229 }).item();
    expect(g).toBe(f(f(f(128 / 255) - f(0.485)) / f(0.229)));
  });

  it('grayscale, and a single number for mean/std', () => {
    const t = imageToTensor(new Uint8Array([0, 255, 255, 0, 0, 0]), { height: 2, width: 3, channels: 1, mean: 0.5, std: 0.5 });
    expect(t.shape).toEqual([1, 1, 2, 3]);
    expect(Array.from(t.toArray())).toEqual([-1, 1, 1, -1, -1, -1]);
  });

  it('validates its arguments, naming imageToTensor and the argument', () => {
    const o = { height: 2, width: 2, channels: 3 };
    expect(() => imageToTensor(new Uint8Array(11), o)).toThrow(RangeError);
    expect(() => imageToTensor(new Uint8Array(11), o)).toThrow(/^imageToTensor: pixels has 11 elements .* 12/);
    expect(() => imageToTensor([1, 2] as unknown as Uint8Array, o)).toThrow(TypeError);
    expect(() => imageToTensor(new Float32Array(12) as unknown as Uint8Array, o)).toThrow(/^imageToTensor: pixels must be a Uint8Array/);
    expect(() => imageToTensor(hwc, { ...o, height: 2.5 })).toThrow(/^imageToTensor: options.height must be a positive integer/);
    expect(() => imageToTensor(hwc, { ...o, width: 0 })).toThrow(RangeError);
    expect(() => imageToTensor(hwc, { ...o, channels: '3' as unknown as number })).toThrow(TypeError);
    expect(() => imageToTensor(hwc, { ...o, layout: 'nhwc' as 'hwc' })).toThrow(/options.layout/);
    expect(() => imageToTensor(hwc, { ...o, mean: [0.5, 0.5] })).toThrow(/^imageToTensor: options.mean has 2 values but the image has 3 channels/);
    expect(() => imageToTensor(hwc, { ...o, std: [1, 0, 1] })).toThrow(/options.std\[1\] must be finite and non-zero/);
    expect(() => imageToTensor(hwc, { ...o, mean: 'x' as unknown as number })).toThrow(TypeError);
    expect(() => imageToTensor(hwc, null as unknown as typeof o)).toThrow(TypeError);
    expect(() => imageToTensor(new Uint8Array(0), { height: 65536, width: 65536, channels: 3 })).toThrow(/more than 2\^31-1/);
  });
});

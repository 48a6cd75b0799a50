/**
 * The safetensors format (https://github.com/huggingface/safetensors), byte-compatible with the
 * reference Rust crate that `safetensors.torch.save_file` calls:
 *
 *   [u64 little-endian N] [N bytes of UTF-8 JSON header, space-padded to a multiple of 8] [data]
 *
 * header = { "__metadata__"?: { string: string }, name: { dtype, shape, data_offsets: [b, e] } }
 * with data_offsets relative to the start of the data section; the tensors tile the data section
 * exactly (no gaps, no overlap, nothing after the last one).
 *
 * Loading treats the file as hostile: the header is parsed by a strict JSON parser of our own
 * (JSON.parse silently keeps the last of duplicate keys), the whole header is validated against
 * the file size before any tensor is allocated, and data is read per tensor in bounded chunks,
 * so memory stays proportional to what the file really holds.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { randomBytes } from 'node:crypto';
import { Tensor } from '../tensor';
import { describe, shapeStr } from '../errors';

// ---- dtypes ---------------------------------------------------------------------------------------

type Dtype = 'BOOL' | 'U8' | 'I8' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

/** Bytes per element of each dtype we decode. */
const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/** Valid in the format, but no float32 decoding is defined here for them. */
const UNSUPPORTED_DTYPES = new Set(['F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);

/**
 * The reference writer orders tensors by dtype, largest alignment first, so every tensor starts
 * aligned (the header is padded to 8). This is the rank of its `Dtype` enum (declaration order).
 */
const WRITE_RANK: Readonly<Record<'F32' | 'I64', number>> = { F32: 11, I64: 13 };

/** Headers larger than this are refused, as the reference does (MAX_HEADER_SIZE). */
const MAX_HEADER_BYTES = 100_000_000;
/** Tensors are float32 arrays indexed by int32 (the same bound as Tensor's shapes). */
const MAX_ELEMENTS = 2 ** 31 - 1;
/** Non-F32 data is converted through a reusable buffer of this many bytes (a multiple of 8). */
const CHUNK_BYTES = 1 << 20;
/** The valid header is 3 levels deep; anything much deeper is hostile. */
const MAX_JSON_DEPTH = 64;

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---- save -----------------------------------------------------------------------------------------

export interface SaveSafetensorsOptions {
  /**
   * The header's `__metadata__` (string values only). Default `{ format: 'pt' }`, what
   * transformers writes and checks for; `null` writes none, as `save_file(t, path)` does.
   */
  metadata?: Record<string, string> | null;
}

/** Anything with PyTorch's `stateDict()` (nn modules). */
export interface HasStateDict {
  stateDict(): Record<string, Tensor>;
}

/**
 * Writes tensors to `path` in the safetensors format, the bytes the reference writer produces
 * (tensors ordered by dtype then name, header space-padded to 8 bytes). Values are F32, except
 * keys `num_batches_tracked` / `*.num_batches_tracked`, written as I64 as PyTorch keeps them.
 * The file is written to a temporary name in the same directory and renamed into place, so a
 * reader never sees a half-written file.
 * @example io.saveSafetensors(model, 'lenet5.safetensors');
 */
export function saveSafetensors(
  moduleOrRecord: HasStateDict | Record<string, Tensor>,
  path: string,
  options: SaveSafetensorsOptions = {},
): void {
  const op = 'saveSafetensors';
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError(`${op}: path must be a non-empty string, got ${describe(path)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${op}: options must be an object, got ${describe(options)}`);
  }
  const record = toRecord(moduleOrRecord);
  const metadata = options.metadata === undefined ? { format: 'pt' } : options.metadata;
  if (metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw new TypeError(`${op}: options.metadata must be an object of strings or null, got ${describe(metadata)}`);
  }

  interface Item { name: string; nameBytes: Buffer; dtype: 'F32' | 'I64'; tensor: Tensor; data: Float32Array }
  const items: Item[] = [];
  for (const name of Object.keys(record)) {
    const tensor = record[name];
    if (!(tensor instanceof Tensor)) {
      throw new TypeError(`${op}: value for key '${name}' must be a Tensor, got ${describe(tensor)}`);
    }
    if (tensor.disposed) throw new Error(`${op}: tensor '${name}' (shape ${shapeStr(tensor.shape)}) is disposed`);
    checkKey(op, name, 'tensor name');
    if (name === '__metadata__') throw new RangeError(`${op}: '__metadata__' is reserved by the format and cannot name a tensor`);
    const isCounter = name === 'num_batches_tracked' || name.endsWith('.num_batches_tracked');
    const data = tensor.data;
    if (isCounter) {
      for (const v of data) {
        if (!Number.isInteger(v)) throw new RangeError(`${op}: '${name}' is saved as I64 and must hold integers, got ${v}`);
      }
    }
    items.push({ name, nameBytes: Buffer.from(name, 'utf8'), dtype: isCounter ? 'I64' : 'F32', tensor, data });
  }
  // Rust compares String names by their UTF-8 bytes; JS's default sort compares UTF-16 units.
  items.sort((a, b) => WRITE_RANK[b.dtype] - WRITE_RANK[a.dtype] || Buffer.compare(a.nameBytes, b.nameBytes));

  const parts: string[] = [];
  if (metadata !== null) {
    const keys = Object.keys(metadata).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const fields: string[] = [];
    for (const k of keys) {
      const v = (metadata as Record<string, unknown>)[k];
      if (typeof v !== 'string') throw new TypeError(`${op}: metadata value for '${k}' must be a string, got ${describe(v)}`);
      checkKey(op, k, 'metadata key');
      checkKey(op, v, 'metadata value');
      fields.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"__metadata__":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const it of items) {
    const bytes = it.tensor.size * (it.dtype === 'I64' ? 8 : 4);
    parts.push(`${JSON.stringify(it.name)}:{"dtype":"${it.dtype}","shape":[${it.tensor.shape.join(',')}],` +
      `"data_offsets":[${offset},${offset + bytes}]}`);
    offset += bytes;
  }
  let header = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const pad = (8 - (header.length % 8)) % 8;
  if (pad) header = Buffer.concat([header, Buffer.alloc(pad, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(header.length), 0);

  const target = nodePath.resolve(path);
  const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx');
    writeAll(fd, prefix);
    writeAll(fd, header);
    for (const it of items) writeAll(fd, it.dtype === 'I64' ? int64Bytes(it.data) : float32Bytes(it.data));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd !== null) {
      try { fs.closeSync(fd); } catch { /* already failing; report the first error */ }
    }
    try { fs.unlinkSync(tmp); } catch { /* never created, or already gone */ }
    throw new Error(`${op}: cannot write '${path}': ${(e as Error).message}`, { cause: e });
  }
}

function toRecord(v: unknown): Record<string, Tensor> {
  const op = 'saveSafetensors';
  if (v === null || typeof v !== 'object') {
    throw new TypeError(`${op}: expected a module or a Record<string, Tensor>, got ${describe(v)}`);
  }
  const sd = (v as { stateDict?: unknown }).stateDict;
  if (typeof sd === 'function') {
    const r: unknown = sd.call(v);
    if (r === null || typeof r !== 'object') throw new TypeError(`${op}: stateDict() must return an object, got ${describe(r)}`);
    return r as Record<string, Tensor>;
  }
  return v as Record<string, Tensor>;
}

/** Strings the reference (Rust String, serde_json) can hold: no lone UTF-16 surrogates. */
function checkKey(op: string, s: string, what: string): void {
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)) {
    throw new RangeError(`${op}: ${what} ${JSON.stringify(s)} holds a lone UTF-16 surrogate, which UTF-8 cannot encode`);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done);
}

function float32Bytes(data: Float32Array): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_LE) return view;
  // Big-endian host: swap through integers so NaN payloads survive.
  const out = new Uint8Array(data.byteLength);
  const dv = new DataView(out.buffer);
  const src = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < data.length; i++) dv.setUint32(4 * i, src.getUint32(4 * i, false), true);
  return out;
}

function int64Bytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 8);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) dv.setBigInt64(8 * i, BigInt(data[i]), true);
  return out;
}

// ---- load -----------------------------------------------------------------------------------------

interface Entry { name: string; dtype: Dtype; shape: number[]; size: number; begin: number; end: number }

class LoadError extends Error {}

/**
 * Reads a safetensors file into float32 tensors (F32, F16, BF16, F64 and the integer/bool dtypes;
 * integers are converted to the nearest float32, as `.float()` would). Keys are returned in
 * sorted order, as `safetensors.torch.load_file` does. A malformed file throws an `Error` whose
 * message starts with `loadSafetensors:` and says what is wrong.
 * @example const sd = io.loadSafetensors('resnet18.safetensors'); model.loadStateDict(sd);
 */
export function loadSafetensors(path: string): Record<string, Tensor> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError(`loadSafetensors: path must be a non-empty string, got ${describe(path)}`);
  }
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw new Error(`loadSafetensors: cannot open '${path}': ${(e as Error).message}`, { cause: e });
  }
  try {
    return loadFromFd(fd);
  } catch (e) {
    if (e instanceof LoadError) throw new Error(`loadSafetensors: ${e.message} (file '${path}')`);
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`loadSafetensors: cannot read '${path}': ${msg}`, { cause: e });
  } finally {
    try { fs.closeSync(fd); } catch { /* nothing left to do */ }
  }
}

function loadFromFd(fd: number): Record<string, Tensor> {
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) throw new LoadError('not a regular file');
  const fileSize = stat.size;
  if (fileSize < 8) throw new LoadError(`file is ${fileSize} bytes, shorter than the 8-byte header length`);

  const lenBytes = new Uint8Array(8);
  readFully(fd, lenBytes, 0);
  const lenView = new DataView(lenBytes.buffer);
  const headerLen = lenView.getUint32(0, true) + lenView.getUint32(4, true) * 2 ** 32; // exact below 2^53
  if (lenView.getUint32(4, true) >= 2 ** 21 || headerLen > MAX_HEADER_BYTES) {
    throw new LoadError(`header length ${lenView.getBigUint64(0, true)} is over the 100 MB limit`);
  }
  if (8 + headerLen > fileSize) {
    throw new LoadError(`header length ${headerLen} runs past the end of the file (${fileSize} bytes)`);
  }
  const headerBytes = new Uint8Array(headerLen);
  readFully(fd, headerBytes, 8);
  let text: string;
  try {
    // ignoreBOM keeps a leading U+FEFF so the JSON parser rejects it, as serde_json does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new LoadError('header is not valid UTF-8');
  }
  const entries = validateHeader(parseJson(text), fileSize - 8 - headerLen);

  // Everything is validated: allocate and read.
  const dataStart = 8 + headerLen;
  const created: Tensor[] = [];
  const out: Record<string, Tensor> = {};
  let chunk: Uint8Array | null = null;
  try {
    const byName = entries.slice().sort((a, b) => compareUtf8(a.name, b.name));
    for (const e of byName) {
      const values = new Float32Array(e.size);
      if (e.dtype === 'F32') {
        readFully(fd, new Uint8Array(values.buffer), dataStart + e.begin);
        if (!HOST_LE) swap32(values);
      } else {
        chunk ??= new Uint8Array(CHUNK_BYTES);
        const elem = DTYPE_SIZE[e.dtype];
        const perChunk = CHUNK_BYTES / elem;
        for (let i = 0; i < e.size; i += perChunk) {
          const n = Math.min(perChunk, e.size - i);
          const bytes = chunk.subarray(0, n * elem);
          readFully(fd, bytes, dataStart + e.begin + i * elem);
          decode(e.dtype, bytes, values, i, n);
        }
      }
      const t = Tensor.wrap(values, e.shape);
      created.push(t);
      // defineProperty: a tensor named '__proto__' must become a key, not the prototype.
      Object.defineProperty(out, e.name, { value: t, enumerable: true, writable: true, configurable: true });
    }
  } catch (err) {
    for (const t of created) t.dispose();
    throw err;
  }
  return out;
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new LoadError('the file ended early (was it truncated while being read?)');
    done += n;
  }
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function swap32(values: Float32Array): void {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const dv = new DataView(values.buffer, values.byteOffset, values.byteLength);
  for (let i = 0; i < u.length; i++) u[i] = dv.getUint32(4 * i, true);
}

// ---- header validation ----------------------------------------------------------------------------

function validateHeader(root: JsonValue, dataSize: number): Entry[] {
  if (!(root instanceof JsonObject)) throw new LoadError(`header must be a JSON object, got ${jsonKind(root)}`);
  const entries: Entry[] = [];
  for (const [name, v] of root.map) {
    if (name === '__metadata__') {
      if (v === null) continue; // serde reads null as "no metadata"
      if (!(v instanceof JsonObject)) throw new LoadError(`__metadata__ must be an object of strings, got ${jsonKind(v)}`);
      for (const [k, mv] of v.map) {
        if (typeof mv !== 'string') throw new LoadError(`__metadata__ value for ${JSON.stringify(k)} must be a string, got ${jsonKind(mv)}`);
      }
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (!(v instanceof JsonObject)) throw new LoadError(`${where}: entry must be an object, got ${jsonKind(v)}`);
    const dtypeV = v.map.get('dtype');
    const shapeV = v.map.get('shape');
    const offV = v.map.get('data_offsets');
    if (dtypeV === undefined) throw new LoadError(`${where}: missing "dtype"`);
    if (shapeV === undefined) throw new LoadError(`${where}: missing "shape"`);
    if (offV === undefined) throw new LoadError(`${where}: missing "data_offsets"`);
    if (typeof dtypeV !== 'string') throw new LoadError(`${where}: "dtype" must be a string, got ${jsonKind(dtypeV)}`);
    if (!Object.prototype.hasOwnProperty.call(DTYPE_SIZE, dtypeV)) {
      if (UNSUPPORTED_DTYPES.has(dtypeV)) throw new LoadError(`${where}: dtype ${dtypeV} is not supported (F32, F16, BF16, F64, integers and BOOL are)`);
      throw new LoadError(`${where}: unknown dtype ${JSON.stringify(dtypeV.slice(0, 40))}`);
    }
    const dtype = dtypeV as Dtype;
    if (!Array.isArray(shapeV)) throw new LoadError(`${where}: "shape" must be an array, got ${jsonKind(shapeV)}`);
    const shape: number[] = [];
    let hasZero = false;
    for (const d of shapeV) {
      const n = jsonUint(d, `${where}: shape dimension`);
      if (n > MAX_ELEMENTS) throw new LoadError(`${where}: shape dimension ${n} is over 2^31-1`);
      if (n === 0) hasZero = true;
      shape.push(n);
    }
    let size = 1;
    if (hasZero) size = 0;
    else {
      for (const d of shape) {
        size *= d;
        if (size > MAX_ELEMENTS) throw new LoadError(`${where}: shape ${shapeStr(shape)} has more than 2^31-1 elements`);
      }
    }
    if (!Array.isArray(offV) || offV.length !== 2) {
      throw new LoadError(`${where}: "data_offsets" must be an array [begin, end], got ${Array.isArray(offV) ? `an array of length ${offV.length}` : jsonKind(offV)}`);
    }
    const begin = jsonUint(offV[0], `${where}: data_offsets begin`);
    const end = jsonUint(offV[1], `${where}: data_offsets end`);
    if (end < begin) throw new LoadError(`${where}: data_offsets [${begin},${end}] end before they begin`);
    if (end > dataSize) throw new LoadError(`${where}: data_offsets [${begin},${end}] run past the end of the file (data section is ${dataSize} bytes)`);
    const need = size * DTYPE_SIZE[dtype];
    if (end - begin !== need) {
      throw new LoadError(`${where}: shape ${shapeStr(shape)} of ${dtype} needs ${need} bytes but data_offsets [${begin},${end}] hold ${end - begin}`);
    }
    entries.push({ name, dtype, shape, size, begin, end });
  }
  // Like the reference: any header order is fine, but sorted by offsets the tensors must tile the
  // data section from 0 to its end.
  const byOffset = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of byOffset) {
    if (e.begin > cursor) {
      throw new LoadError(`tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin},${e.end}] leave a gap at bytes [${cursor},${e.begin}) (${cursor === 0 ? 'data must start at offset 0' : 'data must be contiguous'})`);
    }
    if (e.begin < cursor) {
      throw new LoadError(`tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin},${e.end}] overlap the previous tensor, which ends at ${cursor}`);
    }
    cursor = e.end;
  }
  if (cursor !== dataSize) {
    throw new LoadError(`${dataSize - cursor} trailing bytes after the last tensor (data ends at ${cursor}, the data section is ${dataSize} bytes)`);
  }
  return entries;
}

/** A non-negative integer literal, as Rust's usize would accept it (no sign, fraction or exponent). */
function jsonUint(v: JsonValue | undefined, what: string): number {
  if (!(v instanceof JsonNumber)) throw new LoadError(`${what} must be an integer, got ${jsonKind(v)}`);
  const t = v.text;
  if (t.startsWith('-')) throw new LoadError(`${what} must not be negative, got ${t.slice(0, 40)}`);
  if (!/^\d+$/.test(t)) throw new LoadError(`${what} must be an integer, got ${t.slice(0, 40)}`);
  const n = Number(t);
  if (!Number.isSafeInteger(n)) throw new LoadError(`${what} ${t.slice(0, 40)} is too large (over 2^53)`);
  return n;
}

function jsonKind(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (v instanceof JsonObject) return 'an object';
  if (v instanceof JsonNumber) return `the number ${v.text.slice(0, 40)}`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 40))}`;
  return String(v);
}

// ---- strict JSON (RFC 8259) ---------------------------------------------------------------------

/** Numbers keep their literal text so "2.0", "1e3" and 2^64 are told apart from integers. */
class JsonNumber {
  constructor(readonly text: string) {}
}
/** Objects keep insertion order in a Map (no prototype keys) and refuse duplicate keys. */
class JsonObject {
  readonly map = new Map<string, JsonValue>();
}
type JsonValue = null | boolean | string | JsonNumber | JsonObject | JsonValue[];

function parseJson(s: string): JsonValue {
  let i = 0;
  const fail = (msg: string): never => {
    throw new LoadError(`header is not valid JSON: ${msg} at character ${i}`);
  };
  const ws = (): void => {
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    let run = i;
    for (;;) {
      if (i >= s.length) fail('unterminated string');
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        out += s.slice(run, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) { i++; continue; }
      out += s.slice(run, i);
      const e = s[i + 1];
      i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = (at: number): number => {
            const h = s.slice(at, at + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
            return parseInt(h, 16);
          };
          const u = hex(i);
          i += 4;
          if (u >= 0xdc00 && u <= 0xdfff) fail('lone low surrogate in \\u escape');
          if (u >= 0xd800 && u <= 0xdbff) {
            if (s[i] !== '\\' || s[i + 1] !== 'u') fail('lone high surrogate in \\u escape');
            const lo = hex(i + 2);
            if (lo < 0xdc00 || lo > 0xdfff) fail('lone high surrogate in \\u escape');
            i += 6;
            out += String.fromCharCode(u, lo);
          } else out += String.fromCharCode(u);
          break;
        }
        default: fail('bad escape');
      }
      run = i;
    }
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_JSON_DEPTH) fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      const obj = new JsonObject();
      ws();
      if (s[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        if (s[i] !== '"') fail('expected a string key');
        const k = str();
        if (obj.map.has(k)) fail(`duplicate key ${JSON.stringify(k.slice(0, 60))}`);
        ws();
        if (s[i] !== ':') fail("expected ':'");
        i++;
        obj.map.set(k, value(depth + 1));
        ws();
        if (s[i] === ',') { i++; continue; }
        if (s[i] === '}') { i++; return obj; }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (s[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (s[i] === ',') { i++; continue; }
        if (s[i] === ']') { i++; return arr; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (s.startsWith('true', i)) { i += 4; return true; }
    if (s.startsWith('false', i)) { i += 5; return false; }
    if (s.startsWith('null', i)) { i += 4; return null; }
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const hit = m.exec(s);
    if (hit === null || hit[0] === '' ) return fail(i >= s.length ? 'unexpected end' : `unexpected character ${JSON.stringify(s[i])}`);
    i += hit[0].length;
    return new JsonNumber(hit[0]);
  };
  const v = value(0);
  ws();
  if (i !== s.length) fail('trailing characters after the JSON value');
  return v;
}

// ---- decoding -------------------------------------------------------------------------------------

let f16Table: Uint32Array | null = null;

/** float32 bit patterns of all 65536 halves (exact: every half is a float32; NaN payloads kept). */
function halfTable(): Uint32Array {
  if (f16Table) return f16Table;
  const t = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    let mant = h & 0x3ff;
    let bits: number;
    if (exp === 0x1f) bits = sign | 0x7f800000 | (mant << 13);
    else if (exp !== 0) bits = sign | ((exp + 112) << 23) | (mant << 13);
    else if (mant === 0) bits = sign;
    else {
      // Subnormal half: normalise; value = mant * 2^-24.
      let e = 113;
      while ((mant & 0x400) === 0) { mant <<= 1; e--; }
      bits = sign | (e << 23) | ((mant & 0x3ff) << 13);
    }
    t[h] = bits >>> 0;
  }
  f16Table = t;
  return t;
}

/** Decodes n little-endian elements of `dtype` from `bytes` into out[at ...]. */
function decode(dtype: Dtype, bytes: Uint8Array, out: Float32Array, at: number, n: number): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F16': {
      const table = halfTable();
      const bits = new Uint32Array(out.buffer, out.byteOffset + at * 4, n);
      for (let i = 0; i < n; i++) bits[i] = table[dv.getUint16(2 * i, true)];
      return;
    }
    case 'BF16': {
      const bits = new Uint32Array(out.buffer, out.byteOffset + at * 4, n);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return;
    }
    case 'F64': for (let i = 0; i < n; i++) out[at + i] = dv.getFloat64(8 * i, true); return;
    case 'F32': for (let i = 0; i < n; i++) out[at + i] = dv.getFloat32(4 * i, true); return;
    case 'I64': for (let i = 0; i < n; i++) out[at + i] = int64ToF32(dv.getInt32(8 * i + 4, true), dv.getUint32(8 * i, true), true); return;
    case 'U64': for (let i = 0; i < n; i++) out[at + i] = int64ToF32(dv.getUint32(8 * i + 4, true), dv.getUint32(8 * i, true), false); return;
    case 'I32': for (let i = 0; i < n; i++) out[at + i] = dv.getInt32(4 * i, true); return;
    case 'U32': for (let i = 0; i < n; i++) out[at + i] = dv.getUint32(4 * i, true); return;
    case 'I16': for (let i = 0; i < n; i++) out[at + i] = dv.getInt16(2 * i, true); return;
    case 'U16': for (let i = 0; i < n; i++) out[at + i] = dv.getUint16(2 * i, true); return;
    case 'I8': for (let i = 0; i < n; i++) out[at + i] = dv.getInt8(i); return;
    case 'U8': for (let i = 0; i < n; i++) out[at + i] = bytes[i]; return;
    case 'BOOL': for (let i = 0; i < n; i++) out[at + i] = bytes[i] !== 0 ? 1 : 0; return;
  }
}

/**
 * The float32 nearest a 64-bit integer (hi:lo), rounded once as a C cast would. Below 2^53 the
 * double is exact, so one fround suffices; above, rounding to a double first could land on a
 * float32 tie and round the wrong way, so the dropped low bits are folded into a sticky bit
 * ("round to odd"), which makes the second rounding exact.
 */
function int64ToF32(hi: number, lo: number, signed: boolean): number {
  const v = hi * 2 ** 32 + lo;
  if (Math.abs(v) < 2 ** 53) return v;
  let b = (BigInt(hi) << 32n) | BigInt(lo);
  if (!signed) b = BigInt.asUintN(64, b);
  const neg = b < 0n;
  let m = neg ? -b : b;
  let shift = 0n;
  while (m >= 1n << 53n) {
    const sticky = m & 1n;
    m = (m >> 1n) | sticky;
    shift++;
  }
  const r = Number(m) * 2 ** Number(shift);
  return neg ? -r : r;
}

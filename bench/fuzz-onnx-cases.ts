/**
 * The cases of the ONNX fuzzer (bench/fuzz-onnx.ts) and of test/onnx-fuzz.test.ts: mutants of
 * valid models. A case is a pure function of (master seed, case index, seed list), so the parent
 * process, its workers and a later reproduction all make the same bytes.
 *
 * Mutations (1-3 per case): bit flips, byte insertions and deletions, truncation, varint
 * corruption (a byte run that makes a varint over-long), field-length corruption (one length
 * varint rewritten, the bytes left as they are), splicing two files, and structural mutations on
 * a parsed protobuf tree that keep the file well-formed but hostile: a varint field or a packed
 * varint element (dims, attribute ints, data types) set to a huge, negative or boundary value.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Tensor } from '../lib/tensor';
import { buildOnnxModel } from '../lib/io/onnx/writer';
import { saveOnnx } from '../lib/io/onnx/export';
import { OnnxModel, parseOnnx } from '../lib/io/onnx/model';
import { lenet5 } from '../lib/models/index';
import * as nn from '../lib/nn/index';
import { manualSeed } from '../lib/random';

export interface Seed {
  name: string;
  bytes: Uint8Array;
}

// ---- a seeded RNG ----------------------------------------------------------------------------------

/** mulberry32: small, fast, and the same on every platform. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: () => number, n: number): number => Math.floor(r() * n);

// ---- seeds -------------------------------------------------------------------------------------------

/** The seeds written by simdcnn itself: LeNet-5, a conv net with batch norm, a Concat/Reshape/Gemm net. */
export function builtinSeeds(): Seed[] {
  manualSeed(7);
  const lenet = saveOnnx(lenet5({ inputSize: 28 }).eval(), [1, 1, 28, 28]);
  const convBn = saveOnnx(new nn.Sequential(
    new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(8, 8, 3, { padding: 1, groups: 8 }), new nn.BatchNorm2d(8), new nn.ReLU(),
    new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(8, 4),
  ).eval(), [1, 3, 12, 12]);
  const w = (shape: number[], k: number): Tensor => Tensor.from(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * k)), shape);
  const concat = buildOnnxModel({
    nodes: [
      { op: 'Gemm', inputs: ['x', 'w1', 'b1'], outputs: ['a'], attrs: { transB: 1 } },
      { op: 'Relu', inputs: ['a'], outputs: ['ar'] },
      { op: 'Gemm', inputs: ['x', 'w2'], outputs: ['b'] },
      { op: 'Concat', inputs: ['ar', 'b'], outputs: ['c'], attrs: { axis: 1 } },
      { op: 'Reshape', inputs: ['c', 's1'], outputs: ['d'] },
      { op: 'Transpose', inputs: ['d'], outputs: ['e'], attrs: { perm: [0, 2, 1] } },
      { op: 'Reshape', inputs: ['e', 's2'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'w3', 'b3'], outputs: ['y'], attrs: { alpha: 0.5, beta: 2 } },
    ],
    initializers: {
      w1: w([6, 4], 0.3), b1: w([6], 0.7), w2: w([4, 2], 1.1),
      s1: { dims: [3], int64: [1, 2, 4] }, s2: { dims: [2], int64: [-1, 8] }, w3: w([8, 3], 0.9), b3: w([3], 0.2),
    },
    inputs: [{ name: 'x', shape: ['N', 4] }],
    outputs: ['y'],
  });
  return [{ name: 'lenet5', bytes: lenet }, { name: 'conv-bn', bytes: convBn }, { name: 'concat-reshape-gemm', bytes: concat }];
}

/**
 * ONNX's test models from Debian's libonnx-testdata (when installed): of those that load, at most
 * max, evenly spaced in path order.
 */
export function systemSeeds(max = 400): Seed[] {
  let files: string[];
  try {
    files = execFileSync('dpkg', ['-L', 'libonnx-testdata'], { encoding: 'utf8' }).split('\n').filter((f) => f.endsWith('/model.onnx'));
  } catch {
    const root = '/usr/share/libonnx-testdata/data';
    if (!fs.existsSync(root)) return [];
    files = [];
    for (const suite of fs.readdirSync(root)) for (const t of fs.readdirSync(path.join(root, suite))) files.push(path.join(root, suite, t, 'model.onnx'));
  }
  files.sort();
  const out: Seed[] = [];
  for (const f of files) {
    let bytes: Uint8Array;
    try { bytes = fs.readFileSync(f); } catch { continue; }
    let m: OnnxModel | null = null;
    try { m = parseOnnx(bytes); } catch { continue; }
    m.dispose();
    out.push({ name: path.relative('/usr/share/libonnx-testdata/data', path.dirname(f)), bytes });
  }
  // Evenly spaced over the sorted list, so every suite and op family is represented.
  if (out.length <= max) return out;
  return Array.from({ length: max }, (_, i) => out[Math.floor((i * out.length) / max)]);
}

// ---- a protobuf tree for the structural mutations -------------------------------------------------

interface Field {
  field: number;
  wire: number;
  /** wire 0: the value; wire 1/5: the raw 8 or 4 bytes; wire 2: the bytes or the sub-message */
  value: bigint | Uint8Array | Field[];
}

function readVarint(b: Uint8Array, p: { pos: number }): bigint | null {
  let v = 0n, shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (p.pos >= b.length) return null;
    const x = b[p.pos++];
    v |= BigInt(x & 0x7f) << shift;
    if ((x & 0x80) === 0) return v;
    shift += 7n;
  }
  return null;
}

/** Parses b as a message (null when it is not one); LEN fields that parse are parsed too. */
function parseTree(b: Uint8Array, depth = 0): Field[] | null {
  const out: Field[] = [];
  const p = { pos: 0 };
  while (p.pos < b.length) {
    const t = readVarint(b, p);
    if (t === null) return null;
    const field = Number(t >> 3n), wire = Number(t & 7n);
    if (field < 1 || field > 536870911) return null;
    if (wire === 0) {
      const v = readVarint(b, p);
      if (v === null) return null;
      out.push({ field, wire, value: v });
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (p.pos + n > b.length) return null;
      out.push({ field, wire, value: b.subarray(p.pos, p.pos + n) });
      p.pos += n;
    } else if (wire === 2) {
      const n = readVarint(b, p);
      if (n === null || n > BigInt(b.length - p.pos)) return null;
      const data = b.subarray(p.pos, p.pos + Number(n));
      p.pos += Number(n);
      const sub = depth < 8 && data.length > 0 && data.length < 65536 ? parseTree(data, depth + 1) : null;
      out.push({ field, wire, value: sub ?? data });
    } else return null;
  }
  return out;
}

function varintBytes(v: bigint): number[] {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  do { let b = Number(x & 0x7fn); x >>= 7n; if (x) b |= 0x80; out.push(b); } while (x);
  return out;
}

function serialize(fields: Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    parts.push(Uint8Array.from(varintBytes(BigInt(f.field * 8 + f.wire))));
    if (f.wire === 0) parts.push(Uint8Array.from(varintBytes(f.value as bigint)));
    else if (f.wire === 2) {
      const data = Array.isArray(f.value) ? serialize(f.value) : (f.value as Uint8Array);
      parts.push(Uint8Array.from(varintBytes(BigInt(data.length))), data);
    } else parts.push(f.value as Uint8Array);
  }
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Every field of the tree, depth first. */
function allFields(fields: Field[], out: Field[] = []): Field[] {
  for (const f of fields) {
    out.push(f);
    if (Array.isArray(f.value)) allFields(f.value, out);
  }
  return out;
}

/** Values that break size arithmetic: huge, negative (as two's complement), boundaries. */
const HOSTILE: readonly bigint[] = [
  0n, 1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n + 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -1n, -(2n ** 31n), 65536n, 1000000n, 7n, 3n,
];

// ---- mutations --------------------------------------------------------------------------------------

type Mutation = (b: Uint8Array, r: () => number, other: Uint8Array) => { bytes: Uint8Array; what: string };

const splice = (b: Uint8Array, at: number, del: number, ins: ArrayLike<number>): Uint8Array => {
  const out = new Uint8Array(b.length - del + ins.length);
  out.set(b.subarray(0, at));
  out.set(ins, at);
  out.set(b.subarray(at + del), at + ins.length);
  return out;
};

const MUTATIONS: Record<string, Mutation> = {
  bitflip: (b, r) => {
    const out = b.slice();
    const n = 1 + int(r, 8);
    for (let i = 0; i < n && out.length; i++) { const at = int(r, out.length); out[at] ^= 1 << int(r, 8); }
    return { bytes: out, what: `bitflip x${n}` };
  },
  insert: (b, r) => {
    const at = int(r, b.length + 1), n = 1 + int(r, 16);
    return { bytes: splice(b, at, 0, Array.from({ length: n }, () => int(r, 256))), what: `insert ${n} at ${at}` };
  },
  delete: (b, r) => {
    const at = int(r, b.length), n = Math.min(1 + int(r, 16), b.length - at);
    return { bytes: splice(b, at, n, []), what: `delete ${n} at ${at}` };
  },
  truncate: (b, r) => {
    const at = int(r, b.length);
    return { bytes: b.slice(0, at), what: `truncate at ${at}` };
  },
  varint: (b, r) => {
    // An over-long varint: a run of continuation bytes at a tag or length.
    const at = int(r, b.length), n = 1 + int(r, 11);
    return { bytes: splice(b, at, 0, new Array<number>(n).fill(0x80 | int(r, 128))), what: `varint run of ${n} at ${at}` };
  },
  length: (b, r) => {
    // A length varint rewritten in place (the bytes that follow stay as they are).
    const tree = parseTree(b);
    const lens = tree ? allFields(tree).filter((f) => f.wire === 2) : [];
    if (!lens.length) return MUTATIONS.bitflip(b, r, b);
    const f = lens[int(r, lens.length)];
    const data = Array.isArray(f.value) ? serialize(f.value) : (f.value as Uint8Array);
    const choices = [0, data.length + 1 + int(r, 8), Math.max(data.length - 1 - int(r, 8), 0), 2 ** 31, 2 ** 32 + 5, int(r, 1 << 20)];
    const len = choices[int(r, choices.length)];
    // Serialize with a marker length, then patch it: find the field by re-encoding.
    const old = Uint8Array.from(varintBytes(BigInt(data.length)));
    f.value = data;
    const whole = serialize(tree!);
    const pos = indexOfField(whole, data, old);
    if (pos < 0) return MUTATIONS.bitflip(b, r, b);
    return { bytes: splice(whole, pos, old.length, varintBytes(BigInt(len))), what: `length ${data.length} -> ${len}` };
  },
  splice: (b, r, other) => {
    const a = int(r, b.length + 1), c = int(r, other.length + 1);
    const out = new Uint8Array(a + other.length - c);
    out.set(b.subarray(0, a));
    out.set(other.subarray(c), a);
    return { bytes: out, what: `splice ${a} + other from ${c}` };
  },
  value: (b, r) => {
    // A varint field (a dim, an attribute int, a data type, an opset) set to a hostile value.
    const tree = parseTree(b);
    const vs = tree ? allFields(tree).filter((f) => f.wire === 0) : [];
    if (!vs.length) return MUTATIONS.bitflip(b, r, b);
    const f = vs[int(r, vs.length)];
    const v = HOSTILE[int(r, HOSTILE.length)];
    const was = f.value;
    f.value = v;
    return { bytes: serialize(tree!), what: `field ${f.field} ${was} -> ${v}` };
  },
  dims: (b, r) => {
    // An element of a packed varint field (dims, pads, shapes) set to a hostile value.
    const tree = parseTree(b);
    const packed: { f: Field; xs: bigint[] }[] = [];
    for (const f of tree ? allFields(tree) : []) {
      if (f.wire !== 2 || Array.isArray(f.value)) continue;
      const d = f.value as Uint8Array;
      if (d.length === 0 || d.length > 64) continue;
      const p = { pos: 0 }, xs: bigint[] = [];
      while (p.pos < d.length) { const v = readVarint(d, p); if (v === null) break; xs.push(v); }
      if (p.pos === d.length && xs.length) packed.push({ f, xs });
    }
    if (!packed.length) return MUTATIONS.value(b, r, b);
    const { f, xs } = packed[int(r, packed.length)];
    const i = int(r, xs.length);
    const v = HOSTILE[int(r, HOSTILE.length)];
    xs[i] = v;
    f.value = Uint8Array.from(xs.flatMap(varintBytes));
    return { bytes: serialize(tree!), what: `packed field ${f.field}[${i}] -> ${v}` };
  },
};

function indexOfField(whole: Uint8Array, data: Uint8Array, len: Uint8Array): number {
  // The length varint sits right before data's bytes; find data by its first bytes (the first
  // occurrence whose preceding bytes are the length).
  const probe = data.subarray(0, Math.min(data.length, 32));
  outer: for (let i = len.length; i + data.length <= whole.length; i++) {
    for (let k = 0; k < len.length; k++) if (whole[i - len.length + k] !== len[k]) continue outer;
    for (let k = 0; k < probe.length; k++) if (whole[i + k] !== probe[k]) continue outer;
    return i - len.length;
  }
  return -1;
}

export const MUTATION_NAMES = Object.keys(MUTATIONS);

/**
 * How often each mutation is picked: the structural ones (well-formed files with hostile values)
 * reach the graph checks and the ops, the byte-level ones mostly the wire-format reader.
 */
const WEIGHTS: Record<string, number> = { bitflip: 2, insert: 1, delete: 1, truncate: 1, varint: 1, length: 1, splice: 1, value: 3, dims: 3 };
const PICK: string[] = MUTATION_NAMES.flatMap((n) => new Array<string>(WEIGHTS[n] ?? 1).fill(n));

export interface FuzzCase {
  index: number;
  seed: string;
  mutations: string[];
  bytes: Uint8Array;
}

/** Case i of a run: a seed (the built-in seeds are picked 40 % of the time) and 1-3 mutations (60 % one). */
export function makeCase(seeds: readonly Seed[], builtins: number, masterSeed: number, i: number): FuzzCase {
  const r = rng((masterSeed * 0x9e3779b1 + i * 0x85ebca6b) >>> 0);
  const s = builtins > 0 && (r() < 0.4 || builtins === seeds.length) ? int(r, builtins) : builtins + int(r, seeds.length - builtins);
  const seed = seeds[s];
  let bytes = seed.bytes;
  const u = r();
  const n = u < 0.6 ? 1 : u < 0.9 ? 2 : 3;
  const mutations: string[] = [];
  for (let k = 0; k < n; k++) {
    const name = PICK[int(r, PICK.length)];
    const other = seeds[int(r, seeds.length)].bytes;
    const m = MUTATIONS[name](bytes, r, other);
    bytes = m.bytes;
    mutations.push(`${name}: ${m.what}`);
  }
  return { index: i, seed: seed.name, mutations, bytes };
}

// ---- running one case ----------------------------------------------------------------------------------

export type Outcome =
  | { kind: 'loaded'; ran: 'ok' | 'skipped' | 'error'; reason?: string }
  | { kind: 'rejected'; reason: string }
  /** Something other than an Error was thrown, or an Error without a message: a defect. */
  | { kind: 'bad-throw'; reason: string };

const MAX_INPUT_ELEMENTS = 1 << 20;

/** A small input per graph input: declared dims, symbolic or unknown ones as 1. */
function smallInputs(m: OnnxModel): Record<string, Tensor> | null {
  const out: Record<string, Tensor> = {};
  for (const v of m.inputs) {
    const shape = (v.shape ?? [1]).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const n = shape.reduce((a, b) => a * b, 1);
    if (n > MAX_INPUT_ELEMENTS) return null;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = ((i * 7) % 5) - 2;
    out[v.name] = Tensor.from(data, shape);
  }
  return out;
}

function errorReason(e: unknown): { ok: boolean; reason: string } {
  if (!(e instanceof Error)) return { ok: false, reason: `non-Error thrown: ${String(e).slice(0, 200)}` };
  if (!e.message) return { ok: false, reason: `${e.constructor.name} without a message` };
  return { ok: true, reason: `${e.constructor.name}: ${e.message.slice(0, 400)}` };
}

/** Loads the bytes and, when they load, runs the model once on small inputs. */
export function runCase(bytes: Uint8Array): Outcome {
  let m: OnnxModel;
  try {
    m = parseOnnx(bytes);
  } catch (e) {
    const r = errorReason(e);
    return r.ok ? { kind: 'rejected', reason: r.reason } : { kind: 'bad-throw', reason: r.reason };
  }
  try {
    const feeds = smallInputs(m);
    if (!feeds) return { kind: 'loaded', ran: 'skipped', reason: 'input too large' };
    try {
      const outs = m.runAll(feeds);
      for (const t of Object.values(outs)) t.dispose();
      return { kind: 'loaded', ran: 'ok' };
    } catch (e) {
      const r = errorReason(e);
      return r.ok ? { kind: 'loaded', ran: 'error', reason: r.reason } : { kind: 'bad-throw', reason: r.reason };
    } finally {
      for (const t of Object.values(feeds)) t.dispose();
    }
  } finally {
    m.dispose();
  }
}

/**
 * A rejection's reason with the case-specific parts (names, numbers) replaced, cut to a prefix:
 * the key the fuzzer counts reasons by.
 */
export function reasonKey(reason: string): string {
  return reason.replace(/'[^']*'/g, "'_'").replace(/\[[^\]]*\]/g, '[_]').replace(/(?<![\w-])-?\d+(\.\d+)?(e[+-]?\d+)?/g, 'N').slice(0, 90);
}

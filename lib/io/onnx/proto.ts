/**
 * The subset of onnx.proto (ModelProto and what it holds) that loadOnnx reads, decoded from the
 * wire format. Field numbers follow onnx/onnx.proto; unknown fields are skipped, so files from
 * newer producers load as long as the parts we execute are understood.
 *
 * Tensor payloads are validated here: dims must be non-negative safe integers, the element count
 * is capped, and the data field must hold exactly that many elements before anything is allocated.
 */
import { Reader, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT, fail } from './protobuf';
import { MemoryBudget } from './limits';
import { ExternalData, externalRef } from './external';

/**
 * What a decode may use: the memory budget decoded tensors are charged to, and where external
 * data may be read from (null: refused).
 */
export interface DecodeContext {
  budget: MemoryBudget;
  external: ExternalData | null;
}

/** Without a context (tools decoding trusted test data): the default budget, no external data. */
const defaultContext = (bytes: Uint8Array): DecodeContext => ({ budget: new MemoryBudget(bytes.length, undefined), external: null });

export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

/** Element cap per tensor (2^31-1, what a Float32Array-backed Tensor can hold). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

export type TensorData =
  | { kind: 'float'; dims: number[]; data: Float32Array }
  | { kind: 'int'; dims: number[]; data: number[] };

export interface TensorProto extends Readonly<{ name: string }> {
  readonly value: TensorData;
}

export const AttrType = {
  FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
} as const;

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats: number[];
  ints: number[];
  /** Set when the attribute carries a kind we do not decode (graphs, sparse tensors...). */
  other: boolean;
}

export interface NodeProto {
  name: string;
  opType: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
}

/** A dim: a number, a symbolic name, or null when unspecified. */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  elemType: number | null;
  shape: Dim[] | null;
  /** The TypeProto kind when it is not a tensor (sequence_type, map_type, ...). */
  nonTensor?: string;
}

/** TypeProto's value fields other than tensor_type. */
const NON_TENSOR_TYPES: Record<number, string> = { 4: 'sequence_type', 5: 'map_type', 8: 'sparse_tensor_type', 9: 'optional_type' };

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfo[];
  output: ValueInfo[];
  valueInfo: ValueInfo[];
  sparseInitializers: number;
}

export interface ModelProto {
  irVersion: number;
  opsetImport: { domain: string; version: number }[];
  graph: GraphProto | null;
  hasFunctions: boolean;
}

const dec = (r: Reader): number => r.int64();

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function elementCount(dims: number[], what: string): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) fail(`${what} has an invalid dimension ${d} (dims [${dims.join(',')}])`);
    n *= d;
    if (n > MAX_ELEMENTS) fail(`${what} is too large: dims [${dims.join(',')}] exceed ${MAX_ELEMENTS} elements`);
  }
  return n;
}

export function decodeTensor(buf: Uint8Array, what: string, ctx: DecodeContext = defaultContext(buf)): TensorProto {
  const r = new Reader(buf, what);
  const dims: number[] = [];
  let dataType = 0, name = '', location = 0;
  let raw: Uint8Array | null = null;
  const floats: number[] = [], int32s: number[] = [], int64s: number[] = [];
  let hasExternal = false, other = '';
  const entries: { key: string; value: string }[] = [];
  while (!r.done()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1: r.repeatedVarint(w, f, 'dims', dims, dec); break;
      case 2: r.expect(w, WIRE_VARINT, f, 'data_type'); dataType = r.int32(); break;
      case 4: r.repeatedFloat(w, f, 'float_data', floats); break;
      case 5: r.repeatedVarint(w, f, 'int32_data', int32s, (x) => x.int32()); break;
      case 7: r.repeatedVarint(w, f, 'int64_data', int64s, dec); break;
      case 8: r.expect(w, WIRE_LEN, f, 'name'); name = r.string(); break;
      case 9: r.expect(w, WIRE_LEN, f, 'raw_data'); raw = r.bytes(); break;
      case 13: {
        r.expect(w, WIRE_LEN, f, 'external_data');
        const e = new Reader(r.bytes(), `${what} external_data`);
        const entry = { key: '', value: '' };
        while (!e.done()) {
          const [g, x] = e.tag();
          if (g === 1) { e.expect(x, WIRE_LEN, g, 'key'); entry.key = e.string(); }
          else if (g === 2) { e.expect(x, WIRE_LEN, g, 'value'); entry.value = e.string(); }
          else e.skip(x, g);
        }
        entries.push(entry);
        hasExternal = true;
        break;
      }
      case 14: r.expect(w, WIRE_VARINT, f, 'data_location'); location = r.int32(); break;
      case 3: other = 'segment'; r.skip(w, f); break;
      case 6: case 10: case 11: other = f === 6 ? 'string_data' : f === 10 ? 'double_data' : 'uint64_data'; r.skip(w, f); break;
      default: r.skip(w, f);
    }
  }
  const label = name ? `tensor '${name}'` : what;
  if (location !== 0 && location !== 1) fail(`${label} has data_location ${location}, expected DEFAULT (0) or EXTERNAL (1)`);
  if (hasExternal && location !== 1) fail(`${label} has external_data entries but data_location ${location} is not EXTERNAL (1)`);
  if (location === 1 && !hasExternal) fail(`${label} says its data is external data (data_location EXTERNAL) but has no external_data entries`);
  if (other === 'segment') fail(`${label} is segmented, which is not supported`);
  const count = elementCount(dims, label);
  const size = dataType === DataType.INT64 || dataType === DataType.DOUBLE ? 8 : dataType === DataType.INT32 || dataType === DataType.FLOAT ? 4 : 0;
  let external = false;
  if (location === 1) {
    if (raw !== null || floats.length || int32s.length || int64s.length) fail(`${label} has external data and also data in the file`);
    if (size === 0 || dataType === DataType.DOUBLE) fail(`${label} has external data of data type ${dataType}; only FLOAT, INT64 and INT32 are supported`);
    const ref = externalRef(label, entries);
    if (!ctx.external) fail(`${label} has external data in '${ref.location.slice(0, 200)}', which is refused: no base directory to read it from`);
    raw = ctx.external.read(label, ref, count * size, ctx.budget);
    external = true;
  }
  const mismatch = (field: string, got: number): never =>
    fail(`${label} has dims [${dims.join(',')}] (${count} elements) but ${field} holds ${got}`);
  if (dataType === DataType.FLOAT) {
    let data: Float32Array;
    if (raw !== null) {
      if (floats.length) fail(`${label} has both raw_data and float_data`);
      if (raw.length !== count * 4) mismatch('raw_data', raw.length / 4);
      // External bytes are a fresh aligned copy, already charged: used as they are.
      if (external && LITTLE_ENDIAN) return { name, value: { kind: 'float', dims, data: new Float32Array(raw.buffer, raw.byteOffset, count) } };
      ctx.budget.charge(count * 4, label);
      data = new Float32Array(count);
      if (LITTLE_ENDIAN) new Uint8Array(data.buffer).set(raw);
      else {
        const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        for (let i = 0; i < count; i++) data[i] = dv.getFloat32(i * 4, true);
      }
    } else {
      if (floats.length !== count) mismatch('float_data', floats.length);
      ctx.budget.charge(count * 4, label);
      data = Float32Array.from(floats);
    }
    return { name, value: { kind: 'float', dims, data } };
  }
  if (dataType === DataType.INT64 || dataType === DataType.INT32) {
    let data: number[];
    // Held as JS numbers: 8 bytes each.
    ctx.budget.charge(count * 8, label);
    if (raw !== null) {
      if (raw.length !== count * size) mismatch('raw_data', raw.length / size);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      data = new Array<number>(count);
      for (let i = 0; i < count; i++) {
        data[i] = size === 8 ? dv.getInt32(i * 8 + 4, true) * 4294967296 + dv.getUint32(i * 8, true) : dv.getInt32(i * 4, true);
      }
    } else {
      data = dataType === DataType.INT64 ? int64s : int32s;
      if (data.length !== count) mismatch(dataType === DataType.INT64 ? 'int64_data' : 'int32_data', data.length);
    }
    return { name, value: { kind: 'int', dims, data } };
  }
  const names: Record<number, string> = {
    0: 'UNDEFINED', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 8: 'STRING', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE',
    12: 'UINT32', 13: 'UINT64', 16: 'BFLOAT16',
  };
  return fail(`${label} has data type ${names[dataType] ?? dataType}; only FLOAT, INT64 and INT32 are supported`);
}

function decodeAttribute(buf: Uint8Array, where: string, ctx: DecodeContext): AttributeProto {
  const r = new Reader(buf, `${where} attribute`);
  const a: AttributeProto = { name: '', type: 0, floats: [], ints: [], other: false };
  while (!r.done()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1: r.expect(w, WIRE_LEN, f, 'name'); a.name = r.string(); break;
      case 20: r.expect(w, WIRE_VARINT, f, 'type'); a.type = r.int32(); break;
      case 2: r.expect(w, WIRE_FIXED32, f, 'f'); a.f = r.float(); break;
      case 3: r.expect(w, WIRE_VARINT, f, 'i'); a.i = r.int64(); break;
      case 4: r.expect(w, WIRE_LEN, f, 's'); a.s = r.bytes(); break;
      case 5: r.expect(w, WIRE_LEN, f, 't'); a.t = decodeTensor(r.bytes(), `${where} attribute tensor`, ctx); break;
      case 7: r.repeatedFloat(w, f, 'floats', a.floats); break;
      case 8: r.repeatedVarint(w, f, 'ints', a.ints, dec); break;
      case 6: case 9: case 10: case 11: case 14: case 15: case 22: case 23: a.other = true; r.skip(w, f); break;
      default: r.skip(w, f);
    }
  }
  if (!a.name) fail(`${where} has an attribute without a name`);
  return a;
}

function decodeNode(buf: Uint8Array, index: number, ctx: DecodeContext): NodeProto {
  const where = `node #${index}`;
  const r = new Reader(buf, where);
  const n: NodeProto = { name: '', opType: '', domain: '', input: [], output: [], attribute: [] };
  while (!r.done()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1: r.expect(w, WIRE_LEN, f, 'input'); n.input.push(r.string()); break;
      case 2: r.expect(w, WIRE_LEN, f, 'output'); n.output.push(r.string()); break;
      case 3: r.expect(w, WIRE_LEN, f, 'name'); n.name = r.string(); break;
      case 4: r.expect(w, WIRE_LEN, f, 'op_type'); n.opType = r.string(); break;
      case 7: r.expect(w, WIRE_LEN, f, 'domain'); n.domain = r.string(); break;
      case 5: r.expect(w, WIRE_LEN, f, 'attribute'); n.attribute.push(decodeAttribute(r.bytes(), `${where} (${n.opType || '?'})`, ctx)); break;
      default: r.skip(w, f);
    }
  }
  if (!n.opType) fail(`${where} has no op_type`);
  return n;
}

function decodeShape(buf: Uint8Array, what: string): Dim[] {
  const r = new Reader(buf, `${what} shape`);
  const dims: Dim[] = [];
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f !== 1) { r.skip(w, f); continue; }
    r.expect(w, WIRE_LEN, f, 'dim');
    const d = new Reader(r.bytes(), `${what} dim`);
    let dim: Dim = null;
    while (!d.done()) {
      const [g, x] = d.tag();
      if (g === 1) {
        d.expect(x, WIRE_VARINT, g, 'dim_value');
        const v = d.int64();
        if (!Number.isSafeInteger(v) || v < 0) fail(`${what} has an invalid dimension ${v}`);
        dim = v;
      } else if (g === 2) {
        d.expect(x, WIRE_LEN, g, 'dim_param');
        dim = d.string();
      } else d.skip(x, g);
    }
    dims.push(dim);
  }
  return dims;
}

function decodeValueInfo(buf: Uint8Array, what: string): ValueInfo {
  const r = new Reader(buf, what);
  const v: ValueInfo = { name: '', elemType: null, shape: null };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1) { r.expect(w, WIRE_LEN, f, 'name'); v.name = r.string(); continue; }
    if (f !== 2) { r.skip(w, f); continue; }
    r.expect(w, WIRE_LEN, f, 'type');
    const t = new Reader(r.bytes(), `${what} type`);
    while (!t.done()) {
      const [g, x] = t.tag();
      if (g !== 1) {
        if (NON_TENSOR_TYPES[g]) v.nonTensor = NON_TENSOR_TYPES[g];
        t.skip(x, g);
        continue;
      }
      t.expect(x, WIRE_LEN, g, 'tensor_type');
      const tt = new Reader(t.bytes(), `${what} tensor_type`);
      while (!tt.done()) {
        const [h, y] = tt.tag();
        if (h === 1) { tt.expect(y, WIRE_VARINT, h, 'elem_type'); v.elemType = tt.int32(); }
        else if (h === 2) { tt.expect(y, WIRE_LEN, h, 'shape'); v.shape = decodeShape(tt.bytes(), what); }
        else tt.skip(y, h);
      }
    }
  }
  return v;
}

function decodeGraph(buf: Uint8Array, ctx: DecodeContext): GraphProto {
  const r = new Reader(buf, 'graph');
  const g: GraphProto = { name: '', node: [], initializer: [], input: [], output: [], valueInfo: [], sparseInitializers: 0 };
  while (!r.done()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1: r.expect(w, WIRE_LEN, f, 'node'); g.node.push(decodeNode(r.bytes(), g.node.length, ctx)); break;
      case 2: r.expect(w, WIRE_LEN, f, 'name'); g.name = r.string(); break;
      case 5: r.expect(w, WIRE_LEN, f, 'initializer'); g.initializer.push(decodeTensor(r.bytes(), `initializer #${g.initializer.length}`, ctx)); break;
      case 11: case 12: {
        r.expect(w, WIRE_LEN, f, f === 11 ? 'input' : 'output');
        const list = f === 11 ? g.input : g.output;
        const what = `graph ${f === 11 ? 'input' : 'output'} #${list.length}`;
        const v = decodeValueInfo(r.bytes(), what);
        if (v.nonTensor) fail(`${what}${v.name ? ` '${v.name}'` : ''} has type ${v.nonTensor}; only tensor inputs and outputs are supported`);
        list.push(v);
        break;
      }
      case 13: r.expect(w, WIRE_LEN, f, 'value_info'); g.valueInfo.push(decodeValueInfo(r.bytes(), `value_info #${g.valueInfo.length}`)); break;
      case 15: r.skip(w, f); g.sparseInitializers++; break;
      default: r.skip(w, f);
    }
  }
  return g;
}

export function decodeModel(buf: Uint8Array, ctx: DecodeContext = defaultContext(buf)): ModelProto {
  ctx.budget.reset();
  const r = new Reader(buf, 'model');
  const m: ModelProto = { irVersion: 0, opsetImport: [], graph: null, hasFunctions: false };
  while (!r.done()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1: r.expect(w, WIRE_VARINT, f, 'ir_version'); m.irVersion = r.int64(); break;
      case 7:
        r.expect(w, WIRE_LEN, f, 'graph');
        if (m.graph) fail('model has more than one graph field');
        m.graph = decodeGraph(r.bytes(), ctx);
        break;
      case 8: {
        r.expect(w, WIRE_LEN, f, 'opset_import');
        const o = new Reader(r.bytes(), 'opset_import');
        const op = { domain: '', version: 0 };
        while (!o.done()) {
          const [g, x] = o.tag();
          if (g === 1) { o.expect(x, WIRE_LEN, g, 'domain'); op.domain = o.string(); }
          else if (g === 2) { o.expect(x, WIRE_VARINT, g, 'version'); op.version = o.int64(); }
          else o.skip(x, g);
        }
        m.opsetImport.push(op);
        break;
      }
      case 25: m.hasFunctions = true; r.skip(w, f); break;
      default: r.skip(w, f);
    }
  }
  return m;
}

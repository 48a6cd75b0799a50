/**
 * ONNX's own backend node tests as a conformance suite: every test of Debian's libonnx-testdata
 * (onnx 1.12; the `node`, `pytorch-converted` and `pytorch-operator` suites) whose ops are all
 * CNN ops simdcnn means to cover (CONFORMANCE_OPS), whose default-domain opset is at least 7 and
 * whose inputs and outputs are float32 or int64, run by simdcnn (io.loadOnnx, runAll) and by onnxruntime-node, each output compared with
 * the expected one at rtol 1e-3 / atol 1e-5 (|got - want| <= atol + rtol * |want|; NaN matches
 * NaN; shapes must be equal).
 *   npm run build:ts && npm run bench:onnx-conformance [-- options]
 *
 *   --data DIR     the test data (default $ONNX_TESTDATA or /usr/share/libonnx-testdata/data)
 *   --only STR     tests whose name contains STR (comma-separated: any of them)
 *   --no-ort       simdcnn only
 *   --exact        simdcnn with loadOnnx(file, { fuse: false }): every node's exact kernel, no plan rewrites
 *   --failures     list every simdcnn failure with its reason (default: on)
 *   --json FILE    every test's result as JSON
 *
 * Tests older than opset 7 (PyTorch's opset-6 exports) are run by simdcnn alone and counted apart.
 *
 * Each test is a directory with model.onnx and test_data_set_N/{input_K,output_K}.pb (TensorProto);
 * a test passes when every data set's every output matches. Integer inputs are passed to simdcnn as
 * float32 tensors holding the values (API.md), to ORT as int64.
 */
import * as fs from 'fs';
import * as path from 'path';
import { io, Tensor } from '../lib/index';
import { decodeModel, decodeTensor, DataType, type TensorData } from '../lib/io/onnx/proto';
import type { LoadOnnxOptions } from '../lib/io/onnx/model';

/** The op types of the conformance selection (a test is selected when all of its ops are here). */
export const CONFORMANCE_OPS: readonly string[] = [
  'Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Pad',
  'BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'LRN',
  'Softmax', 'LogSoftmax', 'Hardmax', 'Gemm', 'MatMul',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'PRelu',
  'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign',
  'Exp', 'Log', 'Sqrt', 'Neg', 'Abs', 'Erf', 'Reciprocal', 'Floor', 'Ceil', 'Clip',
  'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceSum', 'ReduceProd', 'ReduceL2',
  'Shape', 'Gather', 'Cast', 'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'Concat', 'Split',
  'Slice', 'Expand', 'Tile', 'ConstantOfShape', 'Range', 'Constant',
  'Resize', 'Upsample', 'Dropout', 'Identity',
];

export const SUITES: readonly string[] = ['node', 'pytorch-converted', 'pytorch-operator'];
/** Older files (PyTorch's opset-1 and opset-6 exports) are outside the target (onnxruntime-node 1.30 runs none of them). */
export const MIN_OPSET = 7;
export const RTOL = 1e-3;
export const ATOL = 1e-5;

export interface ConformanceCase {
  name: string;
  suite: string;
  dir: string;
  /** The op the test is counted under (see primaryOp). */
  op: string;
  /** Every op type in the model, in order of first use. */
  ops: string[];
  opset: number;
}

export interface CaseResult {
  pass: boolean;
  /** Why it failed: the Error's message or the largest mismatch. */
  reason: string;
}

/** The data directory, or null when libonnx-testdata is not installed. */
export function testdataRoot(dir?: string): string | null {
  const d = dir ?? process.env.ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data';
  return SUITES.some((s) => fs.existsSync(path.join(d, s))) ? d : null;
}

const OP_SET = new Set(CONFORMANCE_OPS);
const TYPES_OK = new Set<number>([DataType.FLOAT, DataType.INT64]);

/**
 * The op a test counts under: the longest of the model's op names found in the test's name
 * (underscores and an `_expanded` suffix dropped, case ignored), else (or when it is part of it)
 * the longest listed op name found there (test_layer_normalization_4d_axis0_expanded is
 * LayerNormalization though the expanded model has no such node), else the model's first op
 * other than Constant.
 */
function primaryOp(name: string, ops: string[]): string {
  const n = name.replace(/^test_/, '').replace(/_expanded$/, '').replace(/_/g, '').toLowerCase();
  const longest = (list: readonly string[]): string => {
    let b = '';
    for (const op of list) if (n.includes(op.toLowerCase()) && op.length > b.length) b = op;
    return b;
  };
  // The model's own ops first (test_resize_upsample_* is Resize, not Upsample), unless a listed op
  // named in the test contains the model's (test_logsoftmax_*_expanded is LogSoftmax, not Log).
  const named = longest(CONFORMANCE_OPS), own = longest(ops);
  let best = own && !named.toLowerCase().includes(own.toLowerCase()) ? own : named;
  const alias: Record<string, string> = { batchnorm: 'BatchNormalization', instancenorm: 'InstanceNormalization' };
  for (const [k, v] of Object.entries(alias)) if (n.includes(k) && k.length >= best.length) best = v;
  return best || ops.find((o) => o !== 'Constant') || ops[0] || '?';
}

/** The selected tests, sorted by suite and name (`minOpset`: MIN_OPSET unless given). */
export function selectCases(root: string, minOpset = MIN_OPSET): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const suite of SUITES) {
    const sdir = path.join(root, suite);
    if (!fs.existsSync(sdir)) continue;
    for (const name of fs.readdirSync(sdir).sort()) {
      const dir = path.join(sdir, name);
      const file = path.join(dir, 'model.onnx');
      if (!fs.existsSync(file)) continue;
      let m;
      try {
        m = decodeModel(fs.readFileSync(file));
      } catch {
        continue;  // a tensor type the decoder refuses (BOOL, DOUBLE constants): not a float32 test
      }
      const g = m.graph;
      if (!g) continue;
      const ops = [...new Set(g.node.map((n) => n.opType))];
      if (ops.length === 0 || g.node.some((n) => (n.domain !== '' && n.domain !== 'ai.onnx') || !OP_SET.has(n.opType))) continue;
      const inits = new Set(g.initializer.map((t) => t.name));
      const ends = [...g.input.filter((v) => !inits.has(v.name)), ...g.output];
      if (ends.some((v) => v.elemType === null || !TYPES_OK.has(v.elemType))) continue;
      const opset = m.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
      if (opset < minOpset) continue;
      out.push({ name, suite, dir, op: primaryOp(name, ops), ops, opset });
    }
  }
  return out;
}

export interface DataSet {
  inputs: { name: string; value: TensorData }[];
  outputs: { name: string; value: TensorData }[];
}

/** The model's bytes and its data sets (inputs and outputs named by the model's graph inputs and outputs). */
export function readCase(c: ConformanceCase): { bytes: Uint8Array; sets: DataSet[] } {
  const bytes = fs.readFileSync(path.join(c.dir, 'model.onnx'));
  const g = decodeModel(bytes).graph!;
  const inits = new Set(g.initializer.map((t) => t.name));
  const inNames = g.input.filter((v) => !inits.has(v.name)).map((v) => v.name);
  const outNames = g.output.map((v) => v.name);
  const sets: DataSet[] = [];
  const dirs = fs.readdirSync(c.dir).filter((d) => d.startsWith('test_data_set_')).sort();
  for (const d of dirs) {
    const read = (kind: 'input' | 'output', names: string[]): { name: string; value: TensorData }[] => names.map((n, k) => {
      const t = decodeTensor(fs.readFileSync(path.join(c.dir, d, `${kind}_${k}.pb`)), `${d}/${kind}_${k}.pb`);
      return { name: n, value: t.value };
    });
    // Some tests leave an optional input out of the data set (fewer input_K files than inputs).
    const present = inNames.filter((_, k) => fs.existsSync(path.join(c.dir, d, `input_${k}.pb`)));
    sets.push({ inputs: read('input', present), outputs: read('output', outNames) });
  }
  return { bytes, sets };
}

const fmt = (v: number): string => (Number.isFinite(v) ? Number(v.toPrecision(6)).toString() : String(v));

/** null when `got` matches `want` (tolerances above), else what differs. */
export function mismatch(name: string, got: ArrayLike<number>, gotShape: readonly number[], want: TensorData): string | null {
  if (gotShape.length !== want.dims.length || gotShape.some((d, i) => d !== want.dims[i])) {
    return `output '${name}' has shape [${gotShape.join(',')}], expected [${want.dims.join(',')}]`;
  }
  const w = want.data;
  if (got.length !== w.length) return `output '${name}' has ${got.length} elements, expected ${w.length}`;
  let worst = -1, worstErr = 0, bad = 0;
  for (let i = 0; i < w.length; i++) {
    const a = got[i], b = w[i];
    if (Number.isNaN(b) ? Number.isNaN(a) : a === b) continue;
    const err = Math.abs(a - b);
    if (err <= ATOL + RTOL * Math.abs(b)) continue;
    bad++;
    const e = Number.isNaN(err) ? Infinity : err;
    if (worst < 0 || e > worstErr) { worst = i; worstErr = e; }
  }
  if (bad === 0) return null;
  return `output '${name}': ${bad} of ${w.length} elements differ, max error ${fmt(worstErr)} at ${worst} (got ${fmt(got[worst])}, expected ${fmt(w[worst])})`;
}

/** Runs one test with simdcnn (`opts` as loadOnnx's: { fuse: false } runs every node's exact kernel). */
export async function runSimdcnn(c: ConformanceCase, opts?: LoadOnnxOptions): Promise<CaseResult> {
  let data;
  try {
    data = readCase(c);
  } catch (e) {
    return { pass: false, reason: `test data: ${(e as Error).message}` };
  }
  let model;
  try {
    model = await io.loadOnnx(data.bytes, opts);
  } catch (e) {
    return { pass: false, reason: (e as Error).message };
  }
  try {
    for (const set of data.sets) {
      const feeds: Record<string, Tensor> = {};
      for (const { name, value } of set.inputs) feeds[name] = Tensor.from(Float32Array.from(value.data), value.dims);
      let outs: Record<string, Tensor>;
      try {
        outs = model.runAll(feeds);
      } catch (e) {
        return { pass: false, reason: (e as Error).message };
      } finally {
        for (const t of Object.values(feeds)) t.dispose();
      }
      try {
        for (const { name, value } of set.outputs) {
          const t = outs[name];
          if (!t) return { pass: false, reason: `output '${name}' is missing` };
          const m = mismatch(name, t.toArray(), t.shape, value);
          if (m) return { pass: false, reason: m };
        }
      } finally {
        for (const t of Object.values(outs)) t.dispose();
      }
    }
    return { pass: true, reason: '' };
  } finally {
    model.dispose();
  }
}

type Ort = typeof import('onnxruntime-node');
let ortMod: Ort | null | undefined;

/** onnxruntime-node, or null when it is not installed. */
export function ort(): Ort | null {
  if (ortMod === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      ortMod = require('onnxruntime-node') as Ort;
    } catch {
      ortMod = null;
    }
  }
  return ortMod;
}

/** Runs one test with onnxruntime-node (CPU execution provider, default optimisations). */
export async function runOrt(c: ConformanceCase): Promise<CaseResult> {
  const o = ort();
  if (!o) return { pass: false, reason: 'onnxruntime-node is not installed' };
  try {
    const data = readCase(c);
    const session = await o.InferenceSession.create(data.bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
    try {
      const ins = new Set(session.inputNames);
      for (const set of data.sets) {
        const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
        for (const { name, value } of set.inputs) {
          if (!ins.has(name)) continue;
          feeds[name] = value.kind === 'float'
            ? new o.Tensor('float32', value.data, value.dims)
            : new o.Tensor('int64', BigInt64Array.from(value.data, (v) => BigInt(v)), value.dims);
        }
        const r = await session.run(feeds);
        for (const { name, value } of set.outputs) {
          const t = r[name];
          if (!t) return { pass: false, reason: `output '${name}' is missing` };
          const d = t.data as ArrayLike<number | bigint>;
          const got = Float64Array.from({ length: d.length }, (_, i) => Number(d[i]));
          const m = mismatch(name, got, t.dims, value);
          if (m) return { pass: false, reason: m };
        }
      }
    } finally {
      await session.release();
    }
    return { pass: true, reason: '' };
  } catch (e) {
    return { pass: false, reason: (e as Error).message.split('\n')[0] };
  }
}

// ---- the harness -------------------------------------------------------------------------------

interface Row { case: ConformanceCase; simdcnn: CaseResult; ort: CaseResult | null }

function parseArgs(argv: string[]): { data?: string; only: string[]; ort: boolean; exact: boolean; json?: string } {
  const o: { data?: string; only: string[]; ort: boolean; exact: boolean; json?: string } = { only: [], ort: true, exact: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--data') o.data = next();
    else if (a === '--only') o.only = next().split(',').filter(Boolean);
    else if (a === '--no-ort') o.ort = false;
    else if (a === '--exact') o.exact = true;
    else if (a === '--json') o.json = next();
    else if (a === '--failures') { /* the default */ } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** Per-op pass counts (ops in CONFORMANCE_OPS order, then any other). */
export function perOp(rows: Row[]): { op: string; total: number; simdcnn: number; ort: number | null }[] {
  const m = new Map<string, { op: string; total: number; simdcnn: number; ort: number | null }>();
  for (const r of rows) {
    let e = m.get(r.case.op);
    if (!e) { e = { op: r.case.op, total: 0, simdcnn: 0, ort: r.ort ? 0 : null }; m.set(r.case.op, e); }
    e.total++;
    if (r.simdcnn.pass) e.simdcnn++;
    if (r.ort?.pass) e.ort = (e.ort ?? 0) + 1;
  }
  const order = (op: string): number => { const i = CONFORMANCE_OPS.indexOf(op); return i < 0 ? 1e9 : i; };
  return [...m.values()].sort((a, b) => order(a.op) - order(b.op) || a.op.localeCompare(b.op));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = testdataRoot(args.data);
  if (!root) {
    console.error('onnx-conformance: no test data (install Debian\'s libonnx-testdata, or pass --data DIR / set ONNX_TESTDATA)');
    process.exit(2);
  }
  let cases = selectCases(root);
  if (args.only.length) cases = cases.filter((c) => args.only.some((s) => c.name.includes(s)));
  const useOrt = args.ort && ort() !== null;
  if (args.ort && !useOrt) console.log('onnxruntime-node is not installed: simdcnn only');
  const t0 = Date.now();
  const rows: Row[] = [];
  for (const c of cases) {
    const simdcnn = await runSimdcnn(c, args.exact ? { fuse: false } : undefined);
    const o = useOrt ? await runOrt(c) : null;
    rows.push({ case: c, simdcnn, ort: o });
  }
  // Files older than MIN_OPSET (PyTorch's opset-6 exports: Conv1d/3d, pools, BatchNorm3d...):
  // simdcnn only, onnxruntime-node 1.30 having no kernels for them.
  let older = selectCases(root, 1).filter((c) => c.opset < MIN_OPSET);
  if (args.only.length) older = older.filter((c) => args.only.some((s) => c.name.includes(s)));
  const olderRows: Row[] = [];
  for (const c of older) olderRows.push({ case: c, simdcnn: await runSimdcnn(c, args.exact ? { fuse: false } : undefined), ort: null });
  const seconds = (Date.now() - t0) / 1000;
  const table = perOp(rows);
  const w = Math.max(4, ...table.map((r) => r.op.length));
  const ortV = useOrt ? String((ort()!.env as { versions?: { common?: string } }).versions?.common ?? '') : '';
  console.log(`ONNX backend node tests (${root}): ${cases.length} selected (ops in the CNN list, opset >= ${MIN_OPSET}, float32/int64 I/O)${args.exact ? '; simdcnn with fuse: false' : ''}\n`);
  console.log(`${'op'.padEnd(w)}  tests  simdcnn${useOrt ? `  onnxruntime-node ${ortV}` : ''}`);
  for (const r of table) console.log(`${r.op.padEnd(w)}  ${String(r.total).padStart(5)}  ${String(r.simdcnn).padStart(7)}${useOrt ? `  ${String(r.ort).padStart(7)}` : ''}`);
  const sPass = rows.filter((r) => r.simdcnn.pass).length, oPass = rows.filter((r) => r.ort?.pass).length;
  console.log(`${'all'.padEnd(w)}  ${String(rows.length).padStart(5)}  ${String(sPass).padStart(7)}${useOrt ? `  ${String(oPass).padStart(7)}` : ''}`);
  const fails = rows.filter((r) => !r.simdcnn.pass);
  if (fails.length) {
    console.log(`\nsimdcnn failures (${fails.length}):`);
    for (const r of fails) console.log(`  ${r.case.suite}/${r.case.name}: ${r.simdcnn.reason}`);
  }
  const olderPass = olderRows.filter((r) => r.simdcnn.pass).length;
  console.log(`\nopset < ${MIN_OPSET} (simdcnn only; onnxruntime-node runs none of them): ${olderRows.length} tests, simdcnn passes ${olderPass}`);
  for (const r of olderRows.filter((x) => !x.simdcnn.pass)) console.log(`  ${r.case.suite}/${r.case.name} (opset ${r.case.opset}): ${r.simdcnn.reason}`);
  const oFails = rows.filter((r) => r.ort && !r.ort.pass);
  if (oFails.length) {
    console.log(`\nonnxruntime-node failures (${oFails.length}):`);
    for (const r of oFails) console.log(`  ${r.case.suite}/${r.case.name}: ${r.ort!.reason}`);
  }
  console.log(`\n${seconds.toFixed(1)} s`);
  if (args.json) {
    const out = {
      date: new Date().toISOString(), data: root, rtol: RTOL, atol: ATOL, seconds, ortVersion: ortV || null,
      totals: { tests: rows.length, simdcnn: sPass, ort: useOrt ? oPass : null },
      perOp: table,
      cases: rows.map((r) => ({ name: r.case.name, suite: r.case.suite, op: r.case.op, ops: r.case.ops, opset: r.case.opset,
        simdcnn: r.simdcnn, ort: r.ort })),
      older: {
        tests: olderRows.length, simdcnn: olderPass,
        cases: olderRows.map((r) => ({ name: r.case.name, suite: r.case.suite, op: r.case.op, opset: r.case.opset, simdcnn: r.simdcnn })),
      },
    };
    fs.writeFileSync(args.json, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`wrote ${args.json}`);
  }
}

// Run as a script (node dist/bench/onnx-conformance.js), not when imported by the tests.
if (/onnx-conformance\.[jt]s$/.test(process.argv[1] ?? '')) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

/**
 * The model zoo: torchvision CNNs exported to ONNX by scripts/zoo-export.py (random weights,
 * perturbed batch norms, PyTorch's outputs beside them), each loaded by simdcnn (io.loadOnnx) and
 * by onnxruntime-node, checked against PyTorch, then timed in one process with the two engines
 * interleaved.
 *   npm run build:ts && npm run bench:zoo [-- options]
 *
 *   --dir DIR          fixtures (default build-fixtures/zoo under the package root; make them with
 *                      /usr/bin/python3 scripts/zoo-export.py DIR)
 *   --only a,b         these models only (manifest names)
 *   --cases LIST       timed cases, bBATCHtTHREADS (default b1t1,b8t1,b1t2; batches 1 and 8 exist)
 *   --seconds S        timed seconds per model and case, both engines together (default 5; a case
 *                      never runs fewer than one run per engine per block)
 *   --blocks B         interleaved blocks per case (default 10)
 *   --async            time simdcnn's runAsync instead of run
 *   --ort-spinning on|off  ORT intra-op workers spin after a run (default on: ORT's own default)
 *   --check-only       load and check every model at batch 1 and 8, time nothing
 *   --rss              also peak RSS of fresh ResNet-50 b1 inference processes, simdcnn vs ORT
 *   --json FILE        write every figure as JSON
 *
 * Correctness: each engine's batch-1 and batch-8 outputs (1 thread) against PyTorch's, as
 * max |diff| / max |pytorch| <= 1e-4; a model that fails is FAIL and not timed. A model simdcnn
 * cannot load is 'unsupported: <loadOnnx message>'. Each timed case checks its own first output
 * again (at its thread count) before timing.
 *
 * Timing, per model and case: one warm-up (>= 2 runs each, >= 0.5 s, alternating), then B blocks;
 * block i runs k timed runs of one engine then k of the other, the engine going first alternating
 * with i, k chosen from the warm-up so the blocks fill --seconds. Every run is timed alone; the
 * figures are the medians over all B x k runs of each engine, and ratio = ORT median / simdcnn
 * median (> 1: simdcnn faster).
 *
 * ORT's spinning: onnxruntime keeps its default (workers spin for a while after a parallel section;
 * ~35 ms on the 2-core EPYC this was written on), which is what its users run and what helps its
 * back-to-back runs inside a block. What must not happen is that spinning eating the other
 * engine's runs: after every block the harness sleeps in 5 ms steps until this process used under
 * 20% of a core over a step (at most 250 ms), so the next block starts on quiet cores. simdcnn's
 * pool spins ~100 us and is drained the same way. --ort-spinning off is the alternative (session
 * key session.intra_op.allow_spinning = 0).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cpuInfo, setNumThreads, tensor, io, type Tensor } from '../lib/index';
import type { OnnxModel } from '../lib/io/onnx/model';
import { packageRoot } from '../lib/backend/loader';
import { compare, geomean, median, nowS, table } from './util';
import { onnxruntime, ortModule, ortSession, ortVersion } from './engines/ort';
import { measureOnnxRss, type RssRow } from './rss';

type OrtSession = import('onnxruntime-node').InferenceSession;

const TOL = 1e-4;
const DRAIN_STEP_MS = 5;
const DRAIN_IDLE = 0.2;
const DRAIN_MAX_MS = 250;
const WARM_S = 0.5;

// ---------------------------------------------------------------------------------------------
// options

const argv = process.argv.slice(2);
const KNOWN = new Set(['--dir', '--only', '--cases', '--seconds', '--blocks', '--async', '--ort-spinning', '--check-only', '--rss', '--json', '--help', '-h']);
const argOf = (k: string): string | undefined => {
  const i = argv.indexOf(k);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) usage(`${k} needs a value`);
  return v;
};
function usage(err?: string): never {
  if (err) console.error(`bench:zoo: ${err}`);
  console.error('usage: node dist/bench/zoo.js [--dir DIR] [--only a,b] [--cases b1t1,b8t1,b1t2] [--seconds S] [--blocks B]\n' +
    '                          [--async] [--ort-spinning on|off] [--check-only] [--rss] [--json FILE]\n' +
    '  (see the comment at the top of bench/zoo.ts)');
  process.exit(2);
}
for (const a of argv) if (a.startsWith('-') && !KNOWN.has(a)) usage(`unknown option ${a}`);
if (argv.includes('--help') || argv.includes('-h')) usage();

const root = packageRoot();
const opts = {
  dir: path.resolve(argOf('--dir') ?? path.join(root, 'build-fixtures', 'zoo')),
  only: argOf('--only')?.split(',').map((s) => s.trim()).filter(Boolean),
  cases: (argOf('--cases') ?? 'b1t1,b8t1,b1t2').split(',').map((s) => s.trim()).filter(Boolean),
  seconds: Number(argOf('--seconds') ?? 5),
  blocks: Number(argOf('--blocks') ?? 10),
  async: argv.includes('--async'),
  ortSpinning: (argOf('--ort-spinning') ?? 'on') !== 'off',
  checkOnly: argv.includes('--check-only'),
  rss: argv.includes('--rss'),
  json: argOf('--json'),
};
if (!(opts.seconds > 0)) usage('--seconds must be a positive number');
if (!Number.isInteger(opts.blocks) || opts.blocks < 2) usage('--blocks must be an integer >= 2');
if (!['on', 'off', undefined].includes(argOf('--ort-spinning'))) usage('--ort-spinning takes on or off');

interface Case { id: string; batch: number; threads: number }
const CASES: Case[] = opts.cases.map((id) => {
  const m = /^b(\d+)t(\d+)$/.exec(id);
  if (!m) usage(`bad case '${id}' (want bBATCHtTHREADS, e.g. b1t1)`);
  return { id, batch: Number(m[1]), threads: Number(m[2]) };
});

/** The issue's targets, per case: ORT ms / simdcnn ms. */
const TARGETS: Record<string, { geomean: number; perModel: Record<string, number> }> = {
  b1t1: { geomean: 1.3, perModel: { mobilenet_v2: 1.2 } },
  b8t1: { geomean: 1.1, perModel: {} },
  b1t2: { geomean: 1.1, perModel: {} },
};
/** Every model, every case. */
const EVERY_MODEL = 1.0;
const RSS_TARGET = 0.75;

// ---------------------------------------------------------------------------------------------
// fixtures

interface ManifestModel {
  name: string; input_name: string; output_name: string; input_shape: number[]; output_shape: number[];
  batches: number[]; files: Record<string, string>; onnx_bytes: number; parameters: number; onnx_ops: string[];
}
interface Manifest { torch: string; torchvision: string; onnx: string; opset: number; updated: string; models: ManifestModel[] }

function readF32(file: string, count: number): Float32Array {
  const buf = fs.readFileSync(file);
  if (buf.length !== count * 4) throw new Error(`${path.basename(file)} has ${buf.length} bytes, expected ${count * 4} (${count} float32)`);
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(buf);
  return out;
}
const prod = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const withBatch = (s: number[], b: number): number[] => [b, ...s.slice(1)];

// ---------------------------------------------------------------------------------------------
// timing helpers

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until this process is (nearly) idle: pool workers of either engine have stopped spinning. */
async function drain(): Promise<number> {
  const t0 = nowS();
  let prev = process.cpuUsage();
  for (;;) {
    const w0 = nowS();
    await sleep(DRAIN_STEP_MS);
    const c = process.cpuUsage();
    const cpuS = (c.user + c.system - prev.user - prev.system) / 1e6;
    prev = c;
    const waited = (nowS() - t0) * 1e3;
    if (cpuS < DRAIN_IDLE * (nowS() - w0) || waited >= DRAIN_MAX_MS) return waited;
  }
}

interface Side {
  name: 'simdcnn' | 'ort';
  /** One forward; returns seconds (the output is released outside the timed region). */
  timed(): Promise<number>;
  /** One forward, returning a copy of the output. */
  output(): Promise<Float32Array>;
}

function simdcnnSide(model: OnnxModel, x: Tensor, useAsync: boolean): Side {
  const once = async (): Promise<{ s: number; y: Tensor }> => {
    const t0 = nowS();
    const y = useAsync ? await model.runAsync(x) : model.run(x);
    return { s: nowS() - t0, y };
  };
  return {
    name: 'simdcnn',
    async timed() { const { s, y } = await once(); y.dispose(); return s; },
    async output() { const { y } = await once(); const o = y.data.slice(); y.dispose(); return o; },
  };
}

function ortSide(session: OrtSession, feeds: Record<string, import('onnxruntime-node').Tensor>, outName: string): Side {
  return {
    name: 'ort',
    async timed() { const t0 = nowS(); await session.run(feeds); return nowS() - t0; },
    async output() { const r = await session.run(feeds); return (r[outName].data as Float32Array).slice(); },
  };
}

interface CaseResult {
  status: 'ok' | 'FAIL' | 'error' | 'skipped';
  note?: string;
  check?: { simdcnn: Check; ort: Check };
  blocks?: number;
  runsPerBlock?: number;
  simdcnnMs?: number; ortMs?: number; ratio?: number;
  simdcnnMinMs?: number; ortMinMs?: number;
  /** Per block: each engine's median ms in that block. */
  perBlock?: { first: 'simdcnn' | 'ort'; simdcnnMs: number; ortMs: number }[];
  /** Lowest and highest per-block ratio. */
  blockRatioRange?: [number, number];
  drainMsMax?: number;
  seconds?: number;
}
interface Check { maxAbs: number; rel: number; ok: boolean }

async function timeCase(a: Side, b: Side, seconds: number, blocks: number): Promise<CaseResult> {
  const t0 = nowS();
  // Warm-up, alternating; its runs (after each side's first) estimate the per-run times.
  const wa: number[] = [], wb: number[] = [];
  await a.timed(); await b.timed();
  const until = nowS() + WARM_S;
  while (wa.length < 2 || nowS() < until) { wa.push(await a.timed()); wb.push(await b.timed()); }
  const pair = median(wa) + median(wb);
  const k = Math.max(1, Math.min(500, Math.round(seconds / (blocks * pair))));
  const ts: Record<string, number[]> = { simdcnn: [], ort: [] };
  const perBlock: NonNullable<CaseResult['perBlock']> = [];
  let drainMax = await drain();
  for (let i = 0; i < blocks; i++) {
    const order = i % 2 === 0 ? [a, b] : [b, a];
    const blk: Record<string, number[]> = { simdcnn: [], ort: [] };
    for (const side of order) {
      for (let r = 0; r < k; r++) blk[side.name].push(await side.timed());
      drainMax = Math.max(drainMax, await drain());
      ts[side.name].push(...blk[side.name]);
    }
    perBlock.push({ first: order[0].name, simdcnnMs: median(blk.simdcnn) * 1e3, ortMs: median(blk.ort) * 1e3 });
  }
  const sMs = median(ts.simdcnn) * 1e3, oMs = median(ts.ort) * 1e3;
  const br = perBlock.map((p) => p.ortMs / p.simdcnnMs);
  return {
    status: 'ok', blocks, runsPerBlock: k, simdcnnMs: sMs, ortMs: oMs, ratio: oMs / sMs,
    simdcnnMinMs: Math.min(...ts.simdcnn) * 1e3, ortMinMs: Math.min(...ts.ort) * 1e3,
    perBlock, blockRatioRange: [Math.min(...br), Math.max(...br)], drainMsMax: drainMax, seconds: nowS() - t0,
  };
}

// ---------------------------------------------------------------------------------------------
// per model

interface ModelResult {
  name: string;
  inputShape: number[];
  parameters: number;
  onnxMiB: number;
  status: 'ok' | 'FAIL' | 'unsupported' | 'error';
  note?: string;
  loadS?: { simdcnn?: number; ort?: number };
  plan?: { recorded: boolean; nodes: number; algos: Record<string, number> };
  /** By batch ('b1', 'b8'): each engine's output against PyTorch's, at 1 thread. */
  check: { simdcnn: Record<string, Check | string>; ort: Record<string, Check | string> };
  cases: Record<string, CaseResult>;
  seconds?: number;
}

const msg1 = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];
const checkOf = (ref: Float32Array, got: Float32Array): Check => {
  const { maxAbs, rel } = compare(ref, got);
  return { maxAbs, rel, ok: rel <= TOL };
};

async function benchModel(m: ManifestModel): Promise<ModelResult> {
  const t0 = nowS();
  const res: ModelResult = {
    name: m.name, inputShape: m.input_shape, parameters: m.parameters, onnxMiB: m.onnx_bytes / 2 ** 20,
    status: 'ok', check: { simdcnn: {}, ort: {} }, cases: {}, loadS: {},
  };
  const file = (k: string): string => path.join(opts.dir, m.files[k]);
  const missing = Object.keys(m.files).filter((k) => !fs.existsSync(file(k)));
  if (missing.length) {
    res.status = 'error';
    res.note = `missing fixture file(s): ${missing.map((k) => m.files[k]).join(', ')}`;
    return res;
  }
  const batches = [...new Set([1, 8, ...CASES.map((c) => c.batch)])].filter((b) => m.batches.includes(b));
  const inputs = new Map<number, Float32Array>(), refs = new Map<number, Float32Array>();
  for (const b of batches) {
    inputs.set(b, readF32(file(`input.b${b}`), prod(withBatch(m.input_shape, b))));
    refs.set(b, readF32(file(`output.b${b}`), prod(withBatch(m.output_shape, b))));
  }
  const ort = ortModule()!;
  const sessions = new Map<number, OrtSession>();
  const session = async (threads: number): Promise<OrtSession> => {
    let s = sessions.get(threads);
    if (!s) {
      const t = nowS();
      s = await ortSession(file('onnx'), threads, { spinning: opts.ortSpinning });
      if (threads === 1) res.loadS!.ort = nowS() - t;
      sessions.set(threads, s);
    }
    return s;
  };
  const ortFeeds = (b: number): Record<string, import('onnxruntime-node').Tensor> =>
    ({ [m.input_name]: new ort.Tensor('float32', inputs.get(b)!, withBatch(m.input_shape, b)) });
  const xs = new Map<number, Tensor>();
  const xOf = (b: number): Tensor => {
    let x = xs.get(b);
    if (!x) { x = tensor(inputs.get(b)!, withBatch(m.input_shape, b)); xs.set(b, x); }
    return x;
  };
  let model: OnnxModel | null = null;
  try {
    // Load both engines.
    setNumThreads(1);
    try {
      const t = nowS();
      model = await io.loadOnnx(file('onnx'));
      res.loadS!.simdcnn = nowS() - t;
    } catch (e) {
      res.status = 'unsupported';
      res.note = msg1(e);
    }
    let ortErr: string | null = null;
    try { await session(1); } catch (e) { ortErr = `onnxruntime: ${msg1(e)}`; }

    // Correctness at 1 thread, batches 1 and 8.
    let failed = false;
    for (const b of batches.filter((bb) => bb === 1 || bb === 8)) {
      const key = `b${b}`;
      if (model) {
        try {
          const c = checkOf(refs.get(b)!, await simdcnnSide(model, xOf(b), opts.async).output());
          res.check.simdcnn[key] = c;
          if (!c.ok) failed = true;
        } catch (e) { res.check.simdcnn[key] = `error: ${msg1(e)}`; failed = true; }
      }
      if (!ortErr) {
        try {
          const c = checkOf(refs.get(b)!, await ortSide(sessions.get(1)!, ortFeeds(b), m.output_name).output());
          res.check.ort[key] = c;
          if (!c.ok) failed = true;
        } catch (e) { res.check.ort[key] = `error: ${msg1(e)}`; failed = true; }
      }
    }
    if (model) {
      try {
        const p = model.planInfo(xOf(1));
        const algos: Record<string, number> = {};
        for (const n of p.nodes) algos[n.algo] = (algos[n.algo] ?? 0) + 1;
        res.plan = { recorded: p.recorded, nodes: p.nodes.length, algos };
      } catch { /* the check above reported it */ }
    }
    if (res.status === 'unsupported') return res;
    if (ortErr) { res.status = 'error'; res.note = ortErr; return res; }
    if (failed) { res.status = 'FAIL'; res.note = 'output differs from PyTorch (see check)'; return res; }
    if (opts.checkOnly) return res;

    for (const c of CASES) {
      process.stdout.write(`    ${c.id} ... `);
      if (!m.batches.includes(c.batch)) {
        res.cases[c.id] = { status: 'skipped', note: `no batch-${c.batch} fixture` };
        console.log('skipped (no fixture)');
        continue;
      }
      try {
        setNumThreads(c.threads);
        const s = simdcnnSide(model!, xOf(c.batch), opts.async);
        const o = ortSide(await session(c.threads), ortFeeds(c.batch), m.output_name);
        // This case's own first outputs, at its thread count.
        const ref = refs.get(c.batch)!;
        const check = { simdcnn: checkOf(ref, await s.output()), ort: checkOf(ref, await o.output()) };
        if (!check.simdcnn.ok || !check.ort.ok) {
          res.cases[c.id] = { status: 'FAIL', check, note: 'output differs from PyTorch at this thread count' };
          res.status = 'FAIL';
          console.log(`FAIL (simdcnn ${check.simdcnn.rel.toExponential(1)}, ORT ${check.ort.rel.toExponential(1)})`);
          continue;
        }
        const r = await timeCase(s, o, opts.seconds, opts.blocks);
        r.check = check;
        res.cases[c.id] = r;
        console.log(`simdcnn ${r.simdcnnMs!.toFixed(2)} ms, ORT ${r.ortMs!.toFixed(2)} ms, x${r.ratio!.toFixed(2)} ` +
          `(${r.blocks}x${r.runsPerBlock} runs each, ${r.seconds!.toFixed(1)} s)`);
      } catch (e) {
        res.cases[c.id] = { status: 'error', note: msg1(e) };
        console.log(`error: ${msg1(e)}`);
      }
    }
    return res;
  } finally {
    for (const x of xs.values()) x.dispose();
    model?.dispose();
    for (const s of sessions.values()) await s.release();
    setNumThreads(1);
    res.seconds = nowS() - t0;
  }
}

// ---------------------------------------------------------------------------------------------
// report

const f = (v: number | undefined, d: number): string => (v === undefined || !Number.isFinite(v) ? '' : v.toFixed(d));
const relStr = (c: Check | string | undefined): string =>
  c === undefined ? '' : typeof c === 'string' ? c.slice(0, 30) : `${c.rel.toExponential(1)}${c.ok ? '' : ' FAIL'}`;

function gitRev(): string {
  try {
    return execFileSync('git', ['-C', root, 'describe', '--always', '--dirty'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch { return ''; }
}

interface TargetRow { case: string; target: string; value: string; met: 'yes' | 'no' | 'incomplete' | 'n/a' }

function targets(results: ModelResult[]): { summary: Record<string, { geomean: number | null; timed: number; of: number }>; rows: TargetRow[] } {
  const summary: Record<string, { geomean: number | null; timed: number; of: number }> = {};
  const rows: TargetRow[] = [];
  for (const c of CASES) {
    const ratios = results.flatMap((r) => (r.cases[c.id]?.ratio !== undefined ? [{ name: r.name, ratio: r.cases[c.id].ratio! }] : []));
    const untimed = results.length - ratios.length;
    const g = ratios.length ? geomean(ratios.map((x) => x.ratio)) : null;
    summary[c.id] = { geomean: g, timed: ratios.length, of: results.length };
    const met = (ok: boolean): TargetRow['met'] => (!ratios.length ? 'n/a' : !ok ? 'no' : untimed ? 'incomplete' : 'yes');
    const t = TARGETS[c.id];
    if (t) rows.push({ case: c.id, target: `geomean >= ${t.geomean.toFixed(1)}x`, value: g === null ? '' : `${g.toFixed(3)}x over ${ratios.length}/${results.length}`, met: met(g !== null && g >= t.geomean) });
    const below = ratios.filter((x) => x.ratio < EVERY_MODEL);
    rows.push({ case: c.id, target: `every model >= ${EVERY_MODEL.toFixed(1)}x`, value: below.length ? `below: ${below.map((x) => `${x.name} ${x.ratio.toFixed(2)}`).join(', ')}` : ratios.length ? `lowest ${Math.min(...ratios.map((x) => x.ratio)).toFixed(3)}x` : '', met: met(!below.length) });
    for (const [name, want] of Object.entries(t?.perModel ?? {})) {
      const r = ratios.find((x) => x.name === name);
      rows.push({ case: c.id, target: `${name} >= ${want.toFixed(1)}x`, value: r ? `${r.ratio.toFixed(3)}x` : results.some((x) => x.name === name) ? 'not timed' : 'not run', met: r ? (r.ratio >= want ? 'yes' : 'no') : 'n/a' });
    }
  }
  return { summary, rows };
}

async function main(): Promise<void> {
  const tStart = nowS();
  const manifestPath = path.join(opts.dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) {
    console.error(`bench:zoo: no fixtures at ${opts.dir} (${path.relative(root, manifestPath) || manifestPath} is missing).\n` +
      `Create them (torch, torchvision and onnx for /usr/bin/python3; nothing is downloaded) with:\n` +
      `  cd ${root} && /usr/bin/python3 scripts/zoo-export.py ${path.relative(root, opts.dir) || opts.dir}\n` +
      `or point --dir at an existing export.`);
    process.exit(2);
  }
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest;
  let models = manifest.models;
  if (opts.only) {
    const unknown = opts.only.filter((n) => !models.some((m) => m.name === n));
    if (unknown.length) usage(`unknown model(s) ${unknown.join(', ')}; the manifest has ${models.map((m) => m.name).join(', ')}`);
    models = models.filter((m) => opts.only!.includes(m.name));
  }
  const ortOk = onnxruntime.available();
  if (ortOk !== true) { console.error(`bench:zoo: ${ortOk}`); process.exit(2); }
  if (os.endianness() !== 'LE') { console.error('bench:zoo: the fixtures are little-endian float32; this host is big-endian'); process.exit(2); }

  const info = cpuInfo();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const env = {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model ?? 'cpu', isa: info.isa, isaForced: info.forced, hardwareThreads: info.hardwareThreads,
    cores: os.cpus().length, loadavgBefore: os.loadavg(), loadavgAfter: null as number[] | null,
    node: process.version, onnxruntime: ortVersion(), simdcnn: pkg.version, simdcnnGit: gitRev(),
    torch: manifest.torch, torchvision: manifest.torchvision, onnx: manifest.onnx, opset: manifest.opset, fixturesUpdated: manifest.updated,
    fixtures: opts.dir,
  };
  const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`simdcnn bench:zoo: ${env.cpu}, ${env.cores} cores (${env.hardwareThreads} hardware threads), isa ${env.isa}${env.isaForced ? ' (forced by SIMDCNN_ISA)' : ''}; load average ${la(env.loadavgBefore)}`);
  console.log(`  Node ${env.node}, onnxruntime-node ${env.onnxruntime}, simdcnn ${env.simdcnn}${env.simdcnnGit ? ` (${env.simdcnnGit})` : ''}; ` +
    `fixtures: torch ${env.torch}, torchvision ${env.torchvision}, onnx ${env.onnx}, opset ${env.opset} (${env.fixturesUpdated})`);
  console.log(opts.checkOnly
    ? `  --check-only: ${models.length} model(s), batch 1 and 8 at 1 thread vs PyTorch (tol ${TOL})`
    : `  ${models.length} model(s) x cases ${CASES.map((c) => c.id).join(', ')}; ${opts.seconds} s per model and case, ${opts.blocks} interleaved blocks; ` +
      `simdcnn ${opts.async ? 'runAsync' : 'run'}; ORT spinning ${opts.ortSpinning ? 'on (its default; blocks drained)' : 'off'}`);

  const results: ModelResult[] = [];
  for (const [i, m] of models.entries()) {
    console.log(`  [${i + 1}/${models.length}] ${m.name} (${m.input_shape.join('x')}, ${(m.parameters / 1e6).toFixed(1)} M params)`);
    let r: ModelResult;
    try {
      r = await benchModel(m);
    } catch (e) {
      r = { name: m.name, inputShape: m.input_shape, parameters: m.parameters, onnxMiB: m.onnx_bytes / 2 ** 20, status: 'error', note: msg1(e), check: { simdcnn: {}, ort: {} }, cases: {} };
    }
    results.push(r);
    const chk = (['b1', 'b8'] as const).map((b) => `${b} simdcnn ${relStr(r.check.simdcnn[b]) || '-'} ORT ${relStr(r.check.ort[b]) || '-'}`).join('; ');
    console.log(`    ${r.status}${r.note ? `: ${r.note}` : ''}; check ${chk}; ${f(r.seconds, 1)} s`);
  }
  env.loadavgAfter = os.loadavg();

  // The check table (every model).
  const ct: (string | number)[][] = [['model', 'status', 'simdcnn b1', 'simdcnn b8', 'ORT b1', 'ORT b8', 'load s simdcnn', 'load s ORT', 'plan', 'note']];
  for (const r of results) {
    ct.push([r.name, r.status, relStr(r.check.simdcnn.b1), relStr(r.check.simdcnn.b8), relStr(r.check.ort.b1), relStr(r.check.ort.b8),
      f(r.loadS?.simdcnn, 2), f(r.loadS?.ort, 2), r.plan ? (r.plan.recorded ? 'recorded' : 'JS steps') : '',
      r.status === 'ok' ? '' : r.status === 'unsupported' ? `unsupported: ${r.note}` : r.note ?? '']);
  }
  console.log(`\noutputs vs PyTorch, max |diff| / max |pytorch| (tol ${TOL}), 1 thread:\n` + table(ct.map((row) => row.map(String))).replace(/ +$/gm, ''));

  let tg: ReturnType<typeof targets> | null = null;
  if (!opts.checkOnly) {
    const tt: (string | number)[][] = [['model', 'case', 'simdcnn ms', 'ORT ms', 'ORT/simdcnn', 'block range', 'runs', 'vs 1.0x']];
    for (const c of CASES) {
      for (const r of results) {
        const cr = r.cases[c.id];
        if (!cr) { tt.push([r.name, c.id, '', '', '', '', '', r.status === 'unsupported' ? 'unsupported' : r.status]); continue; }
        if (cr.ratio === undefined) { tt.push([r.name, c.id, '', '', '', '', '', `${cr.status}${cr.note ? `: ${cr.note.slice(0, 40)}` : ''}`]); continue; }
        tt.push([r.name, c.id, f(cr.simdcnnMs, 2), f(cr.ortMs, 2), `${f(cr.ratio, 3)}x`,
          `${f(cr.blockRatioRange![0], 2)}-${f(cr.blockRatioRange![1], 2)}`, `${cr.blocks}x${cr.runsPerBlock}`, cr.ratio >= EVERY_MODEL ? 'ok' : 'BELOW']);
      }
      const g = results.flatMap((r) => (r.cases[c.id]?.ratio !== undefined ? [r.cases[c.id].ratio!] : []));
      tt.push([`geomean (${g.length}/${results.length})`, c.id, '', '', g.length ? `${geomean(g).toFixed(3)}x` : '', '', '',
        TARGETS[c.id] ? `target ${TARGETS[c.id].geomean.toFixed(1)}x` : '']);
    }
    console.log(`\nmedian ms per run (simdcnn ${opts.async ? 'runAsync' : 'run'} / ORT session.run), ratio = ORT / simdcnn (>1: simdcnn faster); ` +
      `block range = lowest-highest per-block ratio:\n` + table(tt.map((row) => row.map(String))).replace(/ +$/gm, ''));
    tg = targets(results);
    console.log('\ntargets (geomean over the models timed; "incomplete": met by those timed, but some models were not timed):\n' +
      table([['case', 'target', 'met', 'value'], ...tg.rows.map((t) => [t.case, t.target, t.met, t.value])]).replace(/ +$/gm, ''));
  }

  let rss: { rows: RssRow[]; ratio: number; ratioOverNode: number } | null = null;
  if (opts.rss) {
    const m = manifest.models.find((x) => x.name === 'resnet50');
    const file = m && path.join(opts.dir, m.files.onnx);
    if (!m || !fs.existsSync(file!)) console.error('\n--rss: resnet50 is not in the fixtures; skipped');
    else {
      try {
        const rows = measureOnnxRss({ file: file!, shape: m.input_shape, threads: 1, runs: 3 });
        const s = rows.find((r) => r.engine.startsWith('simdcnn'))!, o = rows.find((r) => r.engine.startsWith('onnxruntime'))!;
        rss = { rows, ratio: s.maxRssMiB / o.maxRssMiB, ratioOverNode: s.overNodeMiB / o.overNodeMiB };
        console.log('\npeak RSS of a fresh process loading resnet50.onnx and running it 3 times (batch 1, 1 thread):');
        console.log(table([['engine', 'maxRSS MiB', 'over bare node MiB', 'VmHWM MiB', 'child s'],
          ...rows.map((r) => [r.engine, r.maxRssMiB.toFixed(1), r.engine.startsWith('node') ? '' : r.overNodeMiB.toFixed(1),
            r.vmHwmMiB === null ? '' : r.vmHwmMiB.toFixed(1), r.seconds.toFixed(2)])]));
        console.log(`  simdcnn / ORT: ${rss.ratio.toFixed(3)}x of maxRSS (${rss.ratioOverNode.toFixed(3)}x over bare node); ` +
          `target <= ${RSS_TARGET}x: ${rss.ratio <= RSS_TARGET ? 'met' : 'missed'}`);
      } catch (e) {
        console.error(`\n--rss failed: ${msg1(e)}`);
      }
    }
  }

  const elapsed = nowS() - tStart;
  console.log(`\nload average before ${la(env.loadavgBefore)}, after ${la(env.loadavgAfter)}; ${elapsed.toFixed(0)} s in all`);
  if (opts.json) {
    fs.mkdirSync(path.dirname(path.resolve(opts.json)), { recursive: true });
    fs.writeFileSync(opts.json, JSON.stringify({
      environment: env,
      options: { ...opts, cases: CASES, tolerance: TOL, warmSeconds: WARM_S, drain: { stepMs: DRAIN_STEP_MS, idleFraction: DRAIN_IDLE, maxMs: DRAIN_MAX_MS } },
      targets: { perCase: TARGETS, everyModel: EVERY_MODEL, rss: RSS_TARGET },
      models: results, summary: tg?.summary ?? null, targetRows: tg?.rows ?? null, rss, seconds: elapsed,
    }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n');
    console.log(`wrote ${opts.json}`);
  }
  if (results.some((r) => r.status === 'FAIL' || r.status === 'error')) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

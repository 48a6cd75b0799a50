/**
 * Load test of simdcnn-serve (issue 14), loopback only:
 *   req/s and p50 / p99 latency at concurrency 1, 8 and 64 for LeNet-5 and ResNet-18, for
 *   - simdcnn with batching (--max-batch 8),
 *   - simdcnn without batching (--max-batch 1),
 *   - the same server on onnxruntime-node (--engine ort: same protocol, same Batcher, same ONNX file),
 *   each engine its own server process, the cells run in alternating blocks (the engine order
 *   rotates every round) and reported as medians over the rounds, with ratios to simdcnn batched.
 * The client is autocannon in this process: on a small machine it shares the cores with the server
 * under test, equally for every engine.
 *
 *   npx tsc -p tsconfig.json && npm run bench:serve -- [--models lenet5,resnet18] [--concurrency 1,8,64]
 *     [--seconds 10] [--rounds 3] [--engines batched,unbatched,ort] [--max-batch 8] [--max-delay-ms 0]
 *     [--protocol binary|json] [--json out.json] [--soak-seconds N]
 * --protocol binary (default): Triton's binary tensor data extension, raw FP32 after a JSON header;
 * json: the data as JSON numbers (a ResNet-18 sample is ~1 MB of JSON, 25 ms to parse on the
 * server's one JS thread: that, not the engine, is then what a ResNet-18 run measures).
 * --soak-seconds N: instead, one simdcnn batched server under concurrency 64 for N seconds, its RSS
 * sampled every second (from its own /metrics).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cpuInfo, io, manualSeed, models, randn } from '../lib/index';
import { median, table } from './util';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'simdcnn-serve.js');

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (o: Record<string, unknown>) => Promise<AutocannonResult>;
// eslint-disable-next-line @typescript-eslint/no-var-requires
const autocannon = require('autocannon') as Autocannon;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}
const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
const nums = (s: string): number[] => list(s).map((x) => {
  const n = Number(x);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`serve-load: expected positive numbers, got ${JSON.stringify(s)}`);
  return n;
});

const ENGINES: Record<string, { label: string; args: (maxBatch: number) => string[] }> = {
  batched: { label: 'simdcnn batched', args: (b) => ['--max-batch', String(b)] },
  unbatched: { label: 'simdcnn unbatched', args: () => ['--max-batch', '1'] },
  ort: { label: 'onnxruntime-node batched', args: (b) => ['--max-batch', String(b), '--engine', 'ort'] },
};

interface Server { child: ChildProcess; url: string }

function startServer(args: string[]): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 120_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /on (http:\/\/[0-9.]+:\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }); }
    });
    child.stderr!.on('data', (c: Buffer) => { out += c; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}): ${out}`)); });
  });
}

async function stopServer(s: Server): Promise<void> {
  const done = new Promise<void>((r) => s.child.once('exit', () => r()));
  s.child.kill('SIGTERM');
  await done;
}

async function post(url: string, p: Payload): Promise<{ status: number; data: number[] }> {
  const r = await fetch(url, { method: 'POST', headers: p.headers, body: p.body });
  const j = await r.json() as { outputs?: { data: number[] }[]; error?: string };
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${j.error}`);
  return { status: r.status, data: j.outputs![0].data };
}

function environment(): Record<string, unknown> {
  let commit = '';
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
  let ort = '';
  try { ort = String(require('onnxruntime-node/package.json').version); } catch { ort = 'not installed'; }
  return {
    date: new Date().toISOString(), commit, node: process.version, platform: `${os.platform()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? '', cores: os.availableParallelism(), isa: cpuInfo().isa,
    onnxruntimeNode: ort, autocannon: require('autocannon/package.json').version, loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

interface Payload { body: string | Buffer; headers: Record<string, string> }

/**
 * The ONNX file of a seeded built-in model and the request for it: JSON (values rounded to 3
 * decimals: smaller bodies), or Triton's binary tensor data (the JSON header, then raw FP32; the
 * output asked for as binary too). `check` is the same input with a JSON answer, for the agreement check.
 */
function prepare(name: string, dir: string, protocol: string): { file: string; load: Payload; check: Payload; sampleShape: number[] } {
  manualSeed(0);
  const net = name === 'lenet5' ? models.lenet5().eval() : models.resnet18().eval();
  const bytes = name === 'lenet5' ? io.onnxFromStateDict.lenet5(net.stateDict()) : io.onnxFromStateDict.resnet18(net.stateDict(), { inputSize: 224 });
  net.dispose();
  const file = path.join(dir, `${name}.onnx`);
  fs.writeFileSync(file, bytes);
  const sampleShape = name === 'lenet5' ? [1, 28, 28] : [3, 224, 224];
  const x = randn([1, ...sampleShape], { seed: 1 });
  const data = Array.from(x.toArray(), (v) => Math.round(v * 1000) / 1000);
  x.dispose();
  const shape = [1, ...sampleShape];
  const json: Payload = { body: JSON.stringify({ inputs: [{ name: 'input', shape, datatype: 'FP32', data }] }), headers: { 'content-type': 'application/json' } };
  if (protocol === 'json') return { file, load: json, check: json, sampleShape };
  const raw = Buffer.from(new Float32Array(data).buffer);
  const binary = (out: boolean): Payload => {
    const head = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape, datatype: 'FP32', parameters: { binary_data_size: raw.length } }],
      ...(out ? { parameters: { binary_data_output: true } } : {}) }));
    return { body: Buffer.concat([head, raw]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length) } };
  };
  return { file, load: binary(true), check: binary(false), sampleShape };
}

async function cell(url: string, model: string, p: Payload, connections: number, seconds: number): Promise<AutocannonResult> {
  return autocannon({
    url: `${url}/v2/models/${model}/infer`, method: 'POST', headers: p.headers, body: p.body,
    connections, duration: seconds, timeout: 30,
  });
}

async function loadTest(): Promise<void> {
  const modelsArg = list(arg('models', 'lenet5,resnet18'));
  const concurrency = nums(arg('concurrency', '1,8,64'));
  const seconds = nums(arg('seconds', '10'))[0];
  const rounds = nums(arg('rounds', '3'))[0];
  const engines = list(arg('engines', 'batched,unbatched,ort'));
  const maxBatch = nums(arg('max-batch', '8'))[0];
  const delay = arg('max-delay-ms', '0');
  const jsonOut = arg('json', '');
  const protocol = arg('protocol', 'binary');
  if (protocol !== 'json' && protocol !== 'binary') throw new Error(`serve-load: --protocol must be json or binary, got ${protocol}`);
  for (const e of engines) if (!ENGINES[e]) throw new Error(`serve-load: unknown engine ${e} (batched, unbatched, ort)`);
  for (const m of modelsArg) if (m !== 'lenet5' && m !== 'resnet18') throw new Error(`serve-load: unknown model ${m} (lenet5, resnet18)`);
  const env = environment();
  console.log('environment:', JSON.stringify(env));
  const total = modelsArg.length * concurrency.length * engines.length * rounds * (seconds + 0.5);
  console.log(`protocol: ${protocol === 'binary' ? "Triton's binary tensor data (raw FP32 after a JSON header)" : 'JSON'}`);
  console.log(`cells: ${modelsArg.length} models x ${concurrency.length} concurrencies x ${engines.length} engines x ${rounds} rounds x ${seconds} s (+0.5 s warm-up): about ${Math.ceil(total)} s`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdcnn-serve-load-'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const model of modelsArg) {
      const { file, load, check } = prepare(model, dir, protocol);
      const servers: Record<string, Server> = {};
      try {
        for (const e of engines) servers[e] = await startServer(['--model', file, '--name', model, '--max-delay-ms', delay, ...ENGINES[e].args(maxBatch)]);
        // The engines must agree before they are timed.
        const outs = await Promise.all(engines.map((e) => post(`${servers[e].url}/v2/models/${model}/infer`, check)));
        const refOut = outs[0].data;
        const scale = Math.max(...refOut.map(Math.abs)) || 1;
        for (const [i, o] of outs.entries()) {
          const diff = Math.max(...o.data.map((v, j) => Math.abs(v - refOut[j])));
          console.log(`${model}: ${ENGINES[engines[i]].label} output vs ${ENGINES[engines[0]].label}: max |diff| / max |out| = ${(diff / scale).toExponential(2)}`);
          if (!(diff / scale <= 1e-4)) throw new Error(`${model}: ${engines[i]} disagrees with ${engines[0]} (${diff / scale})`);
        }
        const samples = new Map<string, AutocannonResult[]>();
        for (let r = 0; r < rounds; r++) {
          for (const c of concurrency) {
            const order = engines.map((_, i) => engines[(i + r) % engines.length]);
            for (const e of order) {
              await cell(servers[e].url, model, load, c, 0.5);
              const res = await cell(servers[e].url, model, load, c, seconds);
              const key = `${c}|${e}`;
              if (!samples.has(key)) samples.set(key, []);
              samples.get(key)!.push(res);
              process.stdout.write(`  round ${r + 1} ${model} c=${c} ${ENGINES[e].label}: ${res.requests.average.toFixed(1)} req/s, p50 ${res.latency.p50} ms, p99 ${res.latency.p99} ms${res.non2xx || res.errors ? `, non-2xx ${res.non2xx}, errors ${res.errors}` : ''}\n`);
            }
          }
        }
        const rows: (string | number)[][] = [['model', 'conc', 'engine', 'req/s', 'p50 ms', 'p99 ms', 'req/s vs batched', 'p99 vs batched', 'non-2xx+errors']];
        for (const c of concurrency) {
          const base = samples.get(`${c}|${engines[0]}`)!;
          const baseRps = median(base.map((s) => s.requests.average));
          const baseP99 = median(base.map((s) => s.latency.p99));
          for (const e of engines) {
            const s = samples.get(`${c}|${e}`)!;
            const rps = median(s.map((x) => x.requests.average));
            const p50 = median(s.map((x) => x.latency.p50));
            const p99 = median(s.map((x) => x.latency.p99));
            const bad = s.reduce((a, x) => a + x.non2xx + x.errors + x.timeouts, 0);
            rows.push([model, c, ENGINES[e].label, rps.toFixed(1), p50.toFixed(2), p99.toFixed(2), (rps / baseRps).toFixed(2), (p99 / baseP99).toFixed(2), bad]);
            results.push({ model, concurrency: c, engine: e, label: ENGINES[e].label, reqPerSec: rps, p50Ms: p50, p99Ms: p99,
              rpsRatio: rps / baseRps, p99Ratio: p99 / baseP99, failures: bad,
              rounds: s.map((x) => ({ reqPerSec: x.requests.average, p50Ms: x.latency.p50, p99Ms: x.latency.p99, total: x.requests.total })) });
          }
        }
        console.log(`\n${model}: medians over ${rounds} round(s) of ${seconds} s (ratios: engine / ${ENGINES[engines[0]].label})`);
        console.log(table(rows));
        console.log('');
      } finally {
        for (const s of Object.values(servers)) await stopServer(s);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (jsonOut) {
    fs.writeFileSync(jsonOut, JSON.stringify({ environment: env, settings: { models: modelsArg, concurrency, seconds, rounds, engines, maxBatch, maxDelayMs: Number(delay), protocol }, results }, null, 2));
    console.log(`wrote ${jsonOut}`);
  }
}

/** RSS of a server over a long run at concurrency 64, read from its own /metrics. */
async function soak(secondsTotal: number): Promise<void> {
  const model = list(arg('models', 'lenet5'))[0];
  const jsonOut = arg('json', '');
  const env = environment();
  console.log('environment:', JSON.stringify(env));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdcnn-serve-soak-'));
  const { file, load } = prepare(model, dir, arg('protocol', 'binary'));
  const server = await startServer(['--model', file, '--name', model, '--max-batch', arg('max-batch', '8')]);
  const samples: { t: number; rssMiB: number; tensors: number; nativeBytes: number }[] = [];
  const t0 = Date.now();
  const scrape = async (): Promise<void> => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const val = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
    const s = { t: (Date.now() - t0) / 1000, rssMiB: val(/^process_resident_memory_bytes (\S+)/m) / 2 ** 20,
      tensors: val(/^simdcnn_memory\{kind="tensors"\} (\S+)/m), nativeBytes: val(/^simdcnn_memory\{kind="native"\} (\S+)/m) };
    samples.push(s);
    console.log(`t ${s.t.toFixed(0).padStart(5)} s  rss ${s.rssMiB.toFixed(1).padStart(7)} MiB  tensors ${s.tensors}  native ${s.nativeBytes}`);
  };
  try {
    await scrape();
    const timer = setInterval(() => { void scrape(); }, 1000);
    const res = await cell(server.url, model, load, 64, secondsTotal);
    clearInterval(timer);
    await scrape();
    const tenth = samples[Math.max(1, Math.floor(samples.length / 10))];
    const last = samples[samples.length - 1];
    console.log(`\n${model} soak, concurrency 64, ${secondsTotal} s: ${res.requests.average.toFixed(1)} req/s, p50 ${res.latency.p50} ms, p99 ${res.latency.p99} ms, ` +
      `${res.requests.total} requests, non-2xx ${res.non2xx}, errors ${res.errors}; RSS ${tenth.rssMiB.toFixed(1)} MiB at ${tenth.t.toFixed(0)} s -> ${last.rssMiB.toFixed(1)} MiB at the end`);
    if (jsonOut) {
      fs.writeFileSync(jsonOut, JSON.stringify({ environment: env, soak: { model, seconds: secondsTotal, reqPerSec: res.requests.average, p50Ms: res.latency.p50, p99Ms: res.latency.p99, samples } }, null, 2));
      console.log(`wrote ${jsonOut}`);
    }
  } finally {
    await stopServer(server);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const soakSeconds = Number(arg('soak-seconds', '0'));
(soakSeconds > 0 ? soak(soakSeconds) : loadTest()).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

/**
 * Fuzzes io.loadOnnx with mutants of valid models (bench/fuzz-onnx-cases.ts: bit flips, byte
 * insertions and deletions, truncation, varint and field-length corruption, splices, hostile
 * dims and attribute values), each loaded and, when it loads, run once on small inputs, in a pool
 * of watched child processes. A child that dies (signal or nonzero exit) is a crash, one past the
 * per-case timeout a hang, one whose RSS passes the limit an unbounded allocation: the case's bytes
 * go to bench/results/fuzz-crashes/ and the child is replaced.
 *   npm run build:ts && npm run bench:fuzz [-- options]
 *
 *   --cases N      cases (default 10000)
 *   --seed S       master seed (default 1); case i is the same bytes for the same seeds and S
 *   --jobs J       child processes (default 2, at most 2)
 *   --batch B      cases per child before it is replaced (default 200)
 *   --timeout MS   per case (default 10000)
 *   --rss-mb MB    RSS limit per child (default 1536; children run with --max-old-space-size=512)
 *   --system N     at most N seeds from libonnx-testdata (default 400; 0: only the built-in seeds)
 *   --json FILE    the counts, reasons and failing cases as JSON
 *
 * Reproduce a saved case: node -e "require('./dist/lib').io.loadOnnx('bench/results/fuzz-crashes/<file>.onnx')".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { builtinSeeds, systemSeeds, makeCase, reasonKey, type Outcome, type Seed } from './fuzz-onnx-cases';

interface Args { cases: number; seed: number; jobs: number; batch: number; timeout: number; rssMb: number; system: number; json: string | null }

function parseArgs(argv: string[]): Args {
  const a: Args = { cases: 10000, seed: 1, jobs: 2, batch: 200, timeout: 10000, rssMb: 1536, system: 400, json: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    const num = (): number => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`fuzz-onnx: ${k} needs a non-negative integer, got ${v}`);
      i++;
      return n;
    };
    switch (k) {
      case '--cases': a.cases = num(); break;
      case '--seed': a.seed = num(); break;
      case '--jobs': a.jobs = num(); break;
      case '--batch': a.batch = Math.max(1, num()); break;
      case '--timeout': a.timeout = num(); break;
      case '--rss-mb': a.rssMb = num(); break;
      case '--system': a.system = num(); break;
      case '--json': a.json = v; i++; break;
      default: throw new Error(`fuzz-onnx: unknown option ${k}`);
    }
  }
  if (a.jobs < 1 || a.jobs > 2) throw new Error(`fuzz-onnx: --jobs must be 1 or 2 (the machine is shared), got ${a.jobs}`);
  return a;
}

type Failure = { kind: 'crash' | 'hang' | 'unbounded' | 'bad-throw'; index: number; seed: string; mutations: string[]; detail: string; file: string };

const RESULTS = path.join(__dirname, '..', '..', 'bench', 'results');
const CRASH_DIR = path.join(RESULTS, 'fuzz-crashes');
const SEED_DIR = path.join(RESULTS, 'fuzz-seeds');

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function top(counts: Map<string, number>, n: number): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  // Seeds: written to files once, so the workers (and a reproduction) read the same bytes.
  const builtin = builtinSeeds();
  const system = args.system ? systemSeeds(args.system) : [];
  const seeds: Seed[] = [...builtin, ...system];
  fs.mkdirSync(SEED_DIR, { recursive: true });
  const seedFiles = seeds.map((s, i) => {
    const file = path.join(SEED_DIR, `${String(i).padStart(3, '0')}-${s.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}.onnx`);
    fs.writeFileSync(file, s.bytes);
    return { name: s.name, file };
  });
  console.log(`fuzz-onnx: ${args.cases} cases, seed ${args.seed}, ${args.jobs} jobs, ${seeds.length} seeds (${builtin.length} built-in, ${system.length} from libonnx-testdata)`);

  const counts = { loadedRan: 0, loadedRunError: 0, loadedSkipped: 0, rejected: 0, badThrow: 0, crashes: 0, hangs: 0, unbounded: 0 };
  const reasons = new Map<string, number>();
  const runReasons = new Map<string, number>();
  const failures: Failure[] = [];
  let slowest = { ms: 0, index: -1 };
  let maxRss = 0;

  const save = (kind: Failure['kind'], index: number, detail: string): void => {
    const c = makeCase(seeds, builtin.length, args.seed, index);
    fs.mkdirSync(CRASH_DIR, { recursive: true });
    const base = path.join(CRASH_DIR, `${kind}-s${args.seed}-${index}`);
    fs.writeFileSync(`${base}.onnx`, c.bytes);
    fs.writeFileSync(`${base}.json`, JSON.stringify({ kind, index, masterSeed: args.seed, seed: c.seed, mutations: c.mutations, detail }, null, 2));
    failures.push({ kind, index, seed: c.seed, mutations: c.mutations, detail, file: `${base}.onnx` });
    console.log(`  ${kind}: case ${index} (${c.seed}; ${c.mutations.join('; ')}): ${detail}`);
  };

  const record = (i: number, o: Outcome, ms: number, rss: number): void => {
    if (ms > slowest.ms) slowest = { ms, index: i };
    maxRss = Math.max(maxRss, rss);
    if (o.kind === 'rejected') {
      counts.rejected++;
      const k = reasonKey(o.reason);
      reasons.set(k, (reasons.get(k) ?? 0) + 1);
    } else if (o.kind === 'bad-throw') {
      counts.badThrow++;
      save('bad-throw', i, o.reason);
    } else if (o.ran === 'ok') counts.loadedRan++;
    else if (o.ran === 'skipped') counts.loadedSkipped++;
    else {
      counts.loadedRunError++;
      const k = reasonKey(o.reason ?? '');
      runReasons.set(k, (runReasons.get(k) ?? 0) + 1);
    }
  };

  // The queue of case indices, handed out in batches; a batch's unfinished cases go back on it.
  const queue: number[] = Array.from({ length: args.cases }, (_, i) => i);
  let finished = 0;
  const workerScript = path.join(__dirname, 'fuzz-onnx-worker.js');

  const runWorker = (): Promise<void> => new Promise((resolve) => {
    if (queue.length === 0) { resolve(); return; }
    const batch = queue.splice(0, args.batch);
    const pending = new Set(batch);
    const child: ChildProcess = fork(workerScript, [], { execArgv: ['--max-old-space-size=512'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
    let current: { i: number; deadline: number } | null = null;
    let killedFor: 'hang' | 'unbounded' | null = null;
    let done = false;
    const watch = setInterval(() => {
      if (!current || killedFor || child.pid === undefined) return;
      const rss = rssOf(child.pid);
      if (rss > args.rssMb * 2 ** 20) {
        killedFor = 'unbounded';
        save('unbounded', current.i, `RSS ${(rss / 2 ** 20).toFixed(0)} MiB > ${args.rssMb} MiB`);
        child.kill('SIGKILL');
      } else if (Date.now() > current.deadline) {
        killedFor = 'hang';
        save('hang', current.i, `no result after ${args.timeout} ms`);
        child.kill('SIGKILL');
      }
    }, 50);
    const finish = (): void => {
      if (done) return;
      done = true;
      clearInterval(watch);
      // Cases not reached go back to the front of the queue.
      queue.unshift(...batch.filter((i) => pending.has(i)));
      resolve();
    };
    child.on('message', (m: { type: string; i: number; outcome: Outcome; ms: number; rss: number }) => {
      if (m.type === 'ready') child.send({ type: 'batch', cases: batch });
      else if (m.type === 'start') current = { i: m.i, deadline: Date.now() + args.timeout };
      else if (m.type === 'done') {
        current = null;
        pending.delete(m.i);
        finished++;
        record(m.i, m.outcome, m.ms, m.rss);
        if (finished % 1000 === 0) console.log(`  ${finished}/${args.cases} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      } else if (m.type === 'idle') child.disconnect();
    });
    child.on('exit', (code, signal) => {
      if (current) {
        pending.delete(current.i);
        finished++;
        if (killedFor === 'hang') counts.hangs++;
        else if (killedFor === 'unbounded') counts.unbounded++;
        else {
          counts.crashes++;
          save('crash', current.i, `worker exited with ${signal ?? `code ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
        }
      } else if (pending.size && !killedFor) {
        // Died between cases (at startup, say): not a case's fault, but it must not loop forever.
        console.log(`  worker exited between cases (${signal ?? `code ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
        if (code !== 0) { queue.length = 0; pending.clear(); }
      }
      finish();
    });
    child.send({ type: 'init', seedFiles, builtins: builtin.length, masterSeed: args.seed });
  });

  const job = async (): Promise<void> => { while (queue.length) await runWorker(); };
  await Promise.all(Array.from({ length: args.jobs }, job));

  const seconds = (Date.now() - t0) / 1000;
  const loaded = counts.loadedRan + counts.loadedRunError + counts.loadedSkipped;
  console.log(`\n${finished} cases in ${seconds.toFixed(1)} s`);
  console.log(`  loaded OK:                ${loaded} (ran: ${counts.loadedRan}, run refused with an Error: ${counts.loadedRunError}, input too large to run: ${counts.loadedSkipped})`);
  console.log(`  rejected with an Error:   ${counts.rejected}`);
  console.log(`  crashes:                  ${counts.crashes}`);
  console.log(`  hangs (> ${args.timeout} ms):       ${counts.hangs}`);
  console.log(`  unbounded allocations:    ${counts.unbounded} (RSS > ${args.rssMb} MiB)`);
  console.log(`  non-Error throws:         ${counts.badThrow}`);
  console.log(`  slowest case: ${slowest.ms.toFixed(0)} ms (#${slowest.index}); largest worker RSS after a case: ${(maxRss / 2 ** 20).toFixed(0)} MiB`);
  console.log('\n  load rejections by reason (top 10):');
  for (const [k, n] of top(reasons, 10)) console.log(`    ${String(n).padStart(6)}  ${k}`);
  console.log('\n  run refusals by reason (top 10):');
  for (const [k, n] of top(runReasons, 10)) console.log(`    ${String(n).padStart(6)}  ${k}`);
  if (failures.length) console.log(`\n  ${failures.length} failing cases saved under ${CRASH_DIR}`);
  if (args.json) {
    fs.writeFileSync(args.json, JSON.stringify({
      cases: finished, seed: args.seed, jobs: args.jobs, seeds: seeds.length, seconds, timeoutMs: args.timeout, rssLimitMiB: args.rssMb,
      loaded: { total: loaded, ran: counts.loadedRan, runError: counts.loadedRunError, skipped: counts.loadedSkipped },
      rejected: counts.rejected, crashes: counts.crashes, hangs: counts.hangs, unbounded: counts.unbounded, badThrows: counts.badThrow,
      slowestMs: slowest.ms, maxRssMiB: maxRss / 2 ** 20,
      reasons: Object.fromEntries(top(reasons, 50)), runReasons: Object.fromEntries(top(runReasons, 50)), failures,
    }, null, 2));
    console.log(`  JSON: ${args.json}`);
  }
  process.exitCode = counts.crashes + counts.hangs + counts.unbounded + counts.badThrow > 0 ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});

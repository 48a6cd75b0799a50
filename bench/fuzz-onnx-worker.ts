/**
 * A worker of bench/fuzz-onnx.ts (forked, one at a time per job): gets the seed files once, then
 * batches of case indices; for each case it says 'start', makes the mutant, loads and runs it,
 * and says 'done' with the outcome. The parent watches the time and RSS of each case; this process
 * may be killed at any point.
 */
import * as fs from 'node:fs';
import { makeCase, runCase, type Seed } from './fuzz-onnx-cases';

interface Init { type: 'init'; seedFiles: { name: string; file: string }[]; builtins: number; masterSeed: number }
interface Batch { type: 'batch'; cases: number[] }

let seeds: Seed[] = [];
let builtins = 0;
let masterSeed = 0;

const send = (m: unknown): Promise<void> => new Promise((resolve) => { process.send!(m, () => resolve()); });

process.on('message', async (msg: Init | Batch) => {
  if (msg.type === 'init') {
    seeds = msg.seedFiles.map((s) => ({ name: s.name, bytes: new Uint8Array(fs.readFileSync(s.file)) }));
    builtins = msg.builtins;
    masterSeed = msg.masterSeed;
    await send({ type: 'ready' });
    return;
  }
  for (const i of msg.cases) {
    await send({ type: 'start', i });
    const c = makeCase(seeds, builtins, masterSeed, i);
    const t0 = performance.now();
    const outcome = runCase(c.bytes);
    await send({ type: 'done', i, outcome, ms: performance.now() - t0, rss: process.memoryUsage().rss });
  }
  await send({ type: 'idle' });
});

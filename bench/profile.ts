/**
 * Where a planned (eager, eval + noGrad) forward spends its time, call by call: every addon call of
 * one forward is timed in place (wall time around the call, so N-API crossing included), medians
 * over repeats, next to the whole forward's median (the difference is the JS between the calls).
 * Unlike bench/layers.js, each kernel runs where it runs in a real forward: weights cold from DRAM,
 * inputs warm from the previous layer.
 *   npm run build:ts && node dist/bench/profile.js [--model resnet18|lenet5|alexnet] [--threads 1] [--repeats 40]
 */
import { getAddon } from '../lib/backend/index';
import { models, noGrad, tidy, tensor, setNumThreads, manualSeed, cpuInfo, nn } from '../lib/index';
import { median, nowS, table } from './util';

const argv = process.argv.slice(2);
const argOf = (k: string, d: string): string => {
  const i = argv.indexOf(k);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : d;
};
const modelName = argOf('--model', 'resnet18');
const threads = Number(argOf('--threads', '1'));
const repeats = Number(argOf('--repeats', '40'));

const MODELS: Record<string, { make: () => nn.Module; input: number[] }> = {
  resnet18: { make: () => models.resnet18(), input: [1, 3, 224, 224] },
  alexnet: { make: () => models.alexnet(), input: [1, 3, 224, 224] },
  lenet5: { make: () => models.lenet5(), input: [1, 1, 28, 28] },
};

function main(): void {
  const spec = MODELS[modelName];
  if (!spec) throw new RangeError(`profile: --model must be one of ${Object.keys(MODELS).join(', ')}, got '${modelName}'`);
  setNumThreads(threads);
  manualSeed(1);
  const net = spec.make().eval();
  const x = tensor(new Float32Array(spec.input.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i * 0.37)), spec.input);
  const forward = (): void => { noGrad(() => tidy(() => { net.call(x); })); };

  // Wrap every addon function: while `on`, each call's wall time is recorded in call order.
  const addon = getAddon() as unknown as Record<string, unknown>;
  const calls: { name: string; geom: string; s: number }[] = [];
  let on = false;
  for (const k of Object.keys(addon)) {
    const f = addon[k];
    if (typeof f !== 'function') continue;
    addon[k] = function wrapped(this: unknown, ...args: unknown[]) {
      if (!on) return (f as (...a: unknown[]) => unknown).apply(this, args);
      const geom = args.find((a) => a instanceof Int32Array || Array.isArray(a));
      const t0 = nowS();
      const r = (f as (...a: unknown[]) => unknown).apply(this, args);
      calls.push({ name: k, geom: geom ? Array.from(geom as ArrayLike<number>).join('x') : '', s: nowS() - t0 });
      return r;
    };
  }
  const warm = modelName === 'lenet5' ? 2000 : 10;
  for (let i = 0; i < warm; i++) forward();
  const perCall: number[][] = [];
  const labels: string[] = [];
  const totals: number[] = [];
  for (let r = 0; r < repeats; r++) {
    calls.length = 0;
    on = true;
    const t0 = nowS();
    forward();
    totals.push(nowS() - t0);
    on = false;
    calls.forEach((c, i) => {
      (perCall[i] ??= []).push(c.s);
      labels[i] = `${c.name} ${c.geom}`;
    });
  }
  const unit = modelName === 'lenet5' ? 1e6 : 1e3;
  const u = modelName === 'lenet5' ? 'us' : 'ms';
  const rows: (string | number)[][] = [['#', 'call (geometry)', `median ${u}`]];
  let sum = 0;
  perCall.forEach((t, i) => {
    const m = median(t);
    sum += m;
    rows.push([i, labels[i], (m * unit).toFixed(3)]);
  });
  console.log(`${modelName} planned forward, ${threads} thread(s), isa ${cpuInfo().isa}, ${repeats} repeats (medians)`);
  console.log(table(rows));
  console.log(`sum of the calls' medians ${(sum * unit).toFixed(3)} ${u}; whole forward ${(median(totals) * unit).toFixed(3)} ${u}`);
  x.dispose();
  net.dispose();
}

main();

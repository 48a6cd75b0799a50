#!/usr/bin/env node
'use strict';
// A LeNet-5 forward on a fixed input (manualSeed(17) weights, a deterministic 4x1x28x28 batch),
// from a given copy of simdcnn: the pack-install and arm64-prebuild tests run it in the clone and in
// the installed package and compare the logits. Also reports which .node file the addon came from.
//   node scripts/forward-check.cjs [--module <dir | simdcnn>] [--out logits.json]
//                                  [--compare ref.json --abs <tol> | --rel <tol>] [--expect-prebuild]
//                                  [--expect-isa <isa>]
const fs = require('fs');
const path = require('path');

function parseArgs(argv) {
  const o = { module: 'simdcnn' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`forward-check: ${a} needs a value`);
      return argv[++i];
    };
    if (a === '--module') o.module = val();
    else if (a === '--out') o.out = val();
    else if (a === '--compare') o.compare = val();
    else if (a === '--abs') o.abs = Number(val());
    else if (a === '--rel') o.rel = Number(val());
    else if (a === '--expect-prebuild') o.expectPrebuild = true;
    else if (a === '--expect-isa') o.expectIsa = val();
    else throw new Error(`forward-check: unknown argument ${a}`);
  }
  return o;
}

/** The fixed input: smooth, signed, every element different, the same on every platform. */
function fixedInput() {
  const n = 4 * 28 * 28;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.fround(Math.sin(i * 0.37) * 0.8 + Math.cos(i * 0.011) * 0.5);
  return x;
}

function forward(simdcnn) {
  simdcnn.manualSeed(17);
  const net = simdcnn.models.lenet5();
  const logits = simdcnn.noGrad(() => net.call(simdcnn.Tensor.from(fixedInput(), [4, 1, 28, 28])));
  if (logits.shape.join('x') !== '4x10') throw new Error(`forward-check: logits shape ${logits.shape}`);
  return Array.from(logits.toArray());
}

/** The .node files this process has loaded (require() keeps them in require.cache by path). */
function loadedAddons() {
  return Object.keys(require.cache).filter((f) => f.endsWith('.node'));
}

function run(simdcnn, label, argv) {
  const o = parseArgs(argv);
  const logits = forward(simdcnn);
  const info = simdcnn.cpuInfo();
  const addons = loadedAddons();
  console.log(`${label}: cpuInfo ${JSON.stringify({ isa: info.isa, backend: info.backend })}`);
  console.log(`${label}: addon ${addons.join(', ') || '(none in require.cache)'}`);
  console.log(`${label}: logits[0..3] ${logits.slice(0, 4).map((v) => v.toFixed(6)).join(' ')}`);
  let failed = false;
  if (o.expectPrebuild) {
    const dir = path.join('prebuilds', `${process.platform}-${process.arch}`) + path.sep;
    const ok = addons.length === 1 && addons[0].includes(path.sep + dir);
    console.log(`${label}: addon from ${dir}: ${ok ? 'yes' : 'NO'}`);
    failed ||= !ok;
  }
  if (o.expectIsa) {
    const ok = info.isa === o.expectIsa;
    console.log(`${label}: isa ${info.isa}, expected ${o.expectIsa}: ${ok ? 'ok' : 'MISMATCH'}`);
    failed ||= !ok;
  }
  if (o.out) fs.writeFileSync(o.out, JSON.stringify({ isa: info.isa, logits }));
  if (o.compare) {
    const ref = JSON.parse(fs.readFileSync(o.compare, 'utf8'));
    if (ref.logits.length !== logits.length) throw new Error(`forward-check: ${ref.logits.length} reference logits, ${logits.length} here`);
    // Relative: to the largest reference logit (a norm-wise error; per element, a logit near 0
    // would make any rounding difference look large).
    let maxAbs = 0;
    let scale = 0;
    for (let i = 0; i < logits.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(logits[i] - ref.logits[i]));
      scale = Math.max(scale, Math.abs(ref.logits[i]));
    }
    const maxRel = maxAbs / scale;
    const tol = o.rel !== undefined ? { kind: 'rel', v: o.rel, got: maxRel } : { kind: 'abs', v: o.abs ?? 1e-6, got: maxAbs };
    const ok = tol.got <= tol.v;
    console.log(
      `${label}: vs ${ref.isa} reference (${path.basename(o.compare)}): max abs diff ${maxAbs.toExponential(3)}, ` +
        `relative to max |logit| ${maxRel.toExponential(3)} (tolerance ${tol.kind} ${tol.v}): ${ok ? 'ok' : 'TOO LARGE'}`,
    );
    failed ||= !ok;
  }
  if (failed) process.exitCode = 1;
}

module.exports = { run };

if (require.main === module) {
  const argv = process.argv.slice(2);
  const spec = parseArgs(argv).module;
  run(require(spec.startsWith('.') || path.isAbsolute(spec) ? path.resolve(spec) : spec), `CommonJS require(${JSON.stringify(spec)})`, argv);
}

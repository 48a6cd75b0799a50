/**
 * Dense layers from prepacked weights (planned inference: linearPackedSize / linearPackWeights /
 * linearPacked) against the float64 reference, per ISA (SIMDCNN_ISA from vitest.config.mts):
 * the panel path (batch <= 4) and the GEMM path (batch > 4), bias and ReLU epilogues, bitwise batch
 * and thread-count invariance, the Linear module's planned path, and bad input.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon } from '../../lib/backend/loader';
import { nn, noGrad, tidy, tensor, setNumThreads, getNumThreads, setBackend } from '../../lib/index';
import { normalF32 } from '../reference/data';
import { compare, firstBitDifference } from '../reference/check';
import { refLinear } from '../reference/ops';

const addon = loadAddon();
const threads0 = getNumThreads();
afterAll(() => { setNumThreads(threads0); setBackend('native'); });

function packed(w: Float32Array, inF: number, outF: number): Float32Array {
  const p = new Float32Array(addon.linearPackedSize!([inF, outF]));
  addon.linearPackWeights!(w, p, [inF, outF]);
  return p;
}

function run(x: Float32Array, p: Float32Array, b: Float32Array | null, N: number, inF: number, outF: number, act: number) {
  const out = new Float32Array(N * outF);
  addon.linearPacked!(x, p, b, out, [N, inF, outF], act);
  return out;
}

describe(`linearPacked (${process.env.SIMDCNN_ISA ?? 'auto'})`, () => {
  const cases: [number, number, number][] = [
    [1, 1, 1], [1, 400, 120], [2, 120, 84], [3, 84, 10], [4, 17, 49], [5, 33, 47], [7, 256, 97], [9, 130, 200], [33, 64, 48],
  ];
  for (const [N, inF, outF] of cases) {
    for (const withBias of [false, true]) {
      for (const act of [0, 1]) {
        it(`N=${N} inF=${inF} outF=${outF} bias=${withBias} relu=${act === 1}`, () => {
          const x = normalF32(N * inF, N * 7 + inF), w = normalF32(outF * inF, outF + 3);
          const b = withBias ? normalF32(outF, 11) : null;
          const got = run(x, packed(w, inF, outF), b, N, inF, outF, act);
          const ref = refLinear(x, N, inF, w, outF, b);
          const refOut = act === 1 ? ref.out.map((v) => Math.max(0, v)) : ref.out;
          const r = compare(got, refOut, ref.shape, (i) => 1e-5 * Math.abs(refOut[i]) + 2e-6 * Math.sqrt(inF) * ref.absSum[i],
            `linearPacked N=${N} ${inF}->${outF}`);
          expect(r.ok, r.message).toBe(true);
        });
      }
    }
  }

  it('row i is bitwise the same at batch 1, 3 (panel path) and 9 (GEMM path), for 1 and 2 threads', () => {
    const inF = 300, outF = 130;
    const w = normalF32(outF * inF, 5), b = normalF32(outF, 6), x = normalF32(9 * inF, 7);
    const p = packed(w, inF, outF);
    for (const t of [1, 2]) {
      setNumThreads(t);
      const full = run(x, p, b, 9, inF, outF, 1);
      for (let i = 0; i < 9; i++) {
        const one = run(x.subarray(i * inF, (i + 1) * inF).slice(), p, b, 1, inF, outF, 1);
        expect(firstBitDifference(one, full.subarray(i * outF, (i + 1) * outF).slice()), `row ${i}, ${t} threads`).toBe(-1);
      }
      const three = run(x.subarray(0, 3 * inF).slice(), p, b, 3, inF, outF, 1);
      expect(firstBitDifference(three, full.subarray(0, 3 * outF).slice())).toBe(-1);
    }
    setNumThreads(threads0);
  });

  it('nn.Linear in eval + noGrad uses the packed path and matches the plain op; weight updates repack', () => {
    setBackend('native');
    const lin = new nn.Linear(50, 30);
    lin.eval();
    const x = tensor(normalF32(6 * 50, 9), [6, 50]);
    const plain = tidy(() => {
      lin.setFastInference(false);
      const y = noGrad(() => lin.call(x)).toArray();
      lin.setFastInference(true);
      return y;
    });
    const planned = noGrad(() => tidy(() => lin.call(x).toArray()));
    const ref = refLinear(x.data, 6, 50, lin.weight.data, 30, lin.bias!.data);
    const r = compare(planned, ref.out, ref.shape, (i) => 1e-5 * Math.abs(ref.out[i]) + 2e-6 * Math.sqrt(50) * ref.absSum[i], 'planned');
    expect(r.ok, r.message).toBe(true);
    expect(compare(planned, plain, [6, 30], (i) => 1e-5 * (1 + Math.abs(plain[i])), 'vs plain').ok).toBe(true);
    // A write through the library (version bump) invalidates the packed copy.
    lin.weight.data.fill(0);
    lin.weight.version++;
    const after = noGrad(() => tidy(() => lin.call(x).toArray()));
    const bias = lin.bias!.data;
    for (let i = 0; i < after.length; i++) expect(after[i]).toBe(bias[i % 30]);
    x.dispose();
    lin.dispose();
  });

  it('packWeights: false drops the packed copy (memory() shows it) and keeps the results', async () => {
    const { memory } = await import('../../lib/index');
    setBackend('native');
    const lin = new nn.Linear(64, 40);
    lin.eval();
    const x = tensor(normalF32(3 * 64, 12), [3, 64]);
    const before = memory().bytes;
    const packedOut = noGrad(() => tidy(() => lin.call(x).toArray()));
    const withCopy = memory().bytes;
    lin.setFastInference(true, { packWeights: false });
    const plainOut = noGrad(() => tidy(() => lin.call(x).toArray()));
    const without = memory().bytes;
    // Both planned forwards hold an arena for the input and the output (the output's slot starts
    // 64-byte aligned, right after the input's 192 floats); only the first holds the packed copy.
    expect(withCopy - without).toBe(addon.linearPackedSize!([64, 40]) * 4);
    expect(without - before).toBe(4 * (3 * 64 + 3 * 40));
    lin.dispose();
    expect(memory().bytes).toBe(before - 4 * (64 * 40 + 40));
    const r = compare(plainOut, packedOut, [3, 40], (i) => 1e-6 * (1 + Math.abs(packedOut[i])), 'plain vs packed');
    expect(r.ok, r.message).toBe(true);
    expect(() => lin.setFastInference(true, { packWeights: 1 as unknown as boolean })).toThrow(TypeError);
    x.dispose();
  });

  it('rejects bad input with RangeError/TypeError naming the op; the process lives on', () => {
    const inF = 8, outF = 5;
    const w = normalF32(outF * inF, 1), p = packed(w, inF, outF);
    const x = normalF32(2 * inF, 2), out = new Float32Array(2 * outF);
    expect(() => addon.linearPacked!(x, p.subarray(1), null, out, [2, inF, outF], 0)).toThrow(/linearPacked: packed has/);
    expect(() => addon.linearPacked!(x, p, null, new Float32Array(3), [2, inF, outF], 0)).toThrow(RangeError);
    expect(() => addon.linearPacked!(x, p, null, out, [2, inF, outF], 12)).toThrow(/linearPacked: act/);
    expect(() => addon.linearPacked!(x, p, null, out, [2, inF, outF], 5, 1, -1)).toThrow(/linearPacked: clip's min 1 exceeds its max -1/);
    expect(() => addon.linearPacked!(x, p, null, x.subarray(0, 2 * outF), [2, inF, outF], 0)).toThrow(/must not share memory/);
    expect(() => addon.linearPacked!([] as unknown as Float32Array, p, null, out, [2, inF, outF], 0)).toThrow(TypeError);
    expect(() => addon.linearPackWeights!(w, new Float32Array(3), [inF, outF])).toThrow(/linearPackWeights: packed has/);
    expect(() => addon.linearPackWeights!(w, p, [inF + 1, outF])).toThrow(RangeError);
    expect(() => addon.linearPackedSize!([0, 3])).toThrow(RangeError);
    // Still works afterwards.
    const ok = run(x, p, null, 2, inF, outF, 0);
    expect(ok.every(Number.isFinite)).toBe(true);
  });
});

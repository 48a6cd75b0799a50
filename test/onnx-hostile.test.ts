// Hostile ONNX files: each case is a file built to break the loader (malformed wire format, graphs
// that lie about themselves, sizes that ask for unbounded memory, external data that points
// outside its directory). Each must be refused with an Error that says why, before anything large
// is allocated; nothing may crash or hang. (test/onnx.test.ts has the basic malformed cases.)
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadOnnx, parseOnnx, buildOnnxModel, saveOnnx } from '../lib/io/onnx/index';
import type { OnnxNodeSpec, OnnxInitializer } from '../lib/io/onnx/index';
import { Writer } from '../lib/io/onnx/protobuf';
import { Tensor, tensor, zeros } from '../lib/tensor';
import { lenet5 } from '../lib/models/index';

const MiB = 2 ** 20;
let dir = '';
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdcnn-hostile-')); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** Loads (bytes or a path) and returns the Error it is refused with; fails the test if it loads. */
async function refusal(src: Uint8Array | string, opts?: Parameters<typeof loadOnnx>[1]): Promise<Error> {
  let err: unknown = null;
  try { (await loadOnnx(src, opts)).dispose(); } catch (e) { err = e; }
  expect(err, 'the file loaded').toBeInstanceOf(Error);
  return err as Error;
}

/** Runs a model that loads and returns the Error the run is refused with. */
async function runRefusal(bytes: Uint8Array, x: Tensor, opts?: Parameters<typeof loadOnnx>[1]): Promise<Error> {
  const m = await loadOnnx(bytes, opts);
  let err: unknown = null;
  try { m.run(x).dispose(); } catch (e) { err = e; }
  m.dispose();
  expect(err, 'the run succeeded').toBeInstanceOf(Error);
  return err as Error;
}

const rssMiB = (): number => process.memoryUsage().rss / MiB;

/** A varint's bytes (any unsigned 64-bit value). */
function varintBytes(v: bigint): number[] {
  const out: number[] = [];
  do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
  return out;
}

// ---- raw model pieces ---------------------------------------------------------------------------

function valueInfo(name: string, dims: number[], elemType = 1): Writer {
  const shape = new Writer();
  for (const d of dims) { const dim = new Writer(); dim.varint(1, d); shape.message(1, dim); }
  const tt = new Writer(); tt.varint(1, elemType); tt.message(2, shape);
  const ty = new Writer(); ty.message(1, tt);
  const v = new Writer(); v.string(1, name); v.message(2, ty);
  return v;
}

function node(op: string, inputs: string[], outputs: string[], name = ''): Writer {
  const n = new Writer();
  for (const i of inputs) n.string(1, i);
  for (const o of outputs) n.string(2, o);
  if (name) n.string(3, name);
  n.string(4, op);
  return n;
}

/** A model whose graph holds what fill writes (nodes, initializers, inputs, outputs). */
function rawModel(fill: (g: Writer) => void, opset = 13): Uint8Array {
  const g = new Writer();
  g.string(2, 'g');
  fill(g);
  const m = new Writer();
  m.varint(1, 8);
  m.message(7, g);
  const o = new Writer(); o.string(1, ''); o.varint(2, opset);
  m.message(8, o);
  return m.finish();
}

/** y = x + b with b [n] stored as external data (entries key/value; data_location when loc !== null). */
function externalModel(entries: [string, string][], n = 2, loc: number | null = 1): Uint8Array {
  return rawModel((g) => {
    const t = new Writer();
    t.packedVarint(1, [n]); t.varint(2, 1); t.string(8, 'b');
    for (const [k, v] of entries) { const e = new Writer(); e.string(1, k); e.string(2, v); t.message(13, e); }
    if (loc !== null) t.varint(14, loc);
    g.message(1, node('Add', ['x', 'b'], ['y']));
    g.message(5, t);
    g.message(11, valueInfo('x', [n]));
    g.message(12, valueInfo('y', [n]));
  });
}

const relu = (): OnnxNodeSpec[] => [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }];
const one = (op: string, inputs: string[], inits: Record<string, OnnxInitializer>, inShape: (number | null)[], attrs?: OnnxNodeSpec['attrs']): Uint8Array =>
  buildOnnxModel({ nodes: [{ op, inputs, outputs: ['y'], name: `${op.toLowerCase()}0`, attrs }], initializers: inits, inputs: [{ name: 'x', shape: inShape }], outputs: ['y'] });

// ---- the wire format ----------------------------------------------------------------------------

describe('malformed wire format', () => {
  const good = saveOnnx(lenet5({ inputSize: 28 }).eval(), [1, 1, 28, 28]);

  it('every truncation of LeNet-5 is refused with a loadOnnx Error or loads as a smaller valid model', () => {
    // 200 cut points over the whole file, plus the first 64 bytes one by one.
    const cuts = new Set<number>();
    for (let i = 0; i < 64; i++) cuts.add(i);
    for (let i = 0; i < 200; i++) cuts.add(Math.floor((good.length * i) / 200));
    let refused = 0;
    for (const n of cuts) {
      try { parseOnnx(good.subarray(0, n)).dispose(); } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message).toMatch(/^loadOnnx: \S/);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(cuts.size * 0.9);
  });

  it('a wrong wire type names the message and field', async () => {
    // TensorProto.dims (field 1) sent as fixed32.
    const bytes = rawModel((g) => {
      const t = new Writer(); t.float(1, 1); t.varint(2, 1); t.string(8, 'w');
      g.message(5, t);
    });
    expect((await refusal(bytes)).message).toMatch(/wrong wire type 5 for initializer #0\.dims \(field 1\), expected 2/);
  });

  it('varints of 11 bytes and a 10th byte above 1 are refused', async () => {
    expect((await refusal(Uint8Array.of(0x08, ...new Array(10).fill(0x80), 0x01))).message).toMatch(/longer than 10 bytes/);
    expect((await refusal(Uint8Array.of(0x08, ...new Array(9).fill(0xff), 0x02))).message).toMatch(/more than 64 bits/);
  });

  it('a length past the end of a nested message is refused, naming the message', async () => {
    const g = new Writer(); g.string(2, 'g');
    const inner = g.finish();
    // graph (field 7) claims 5 more bytes than the file has.
    const bytes = Uint8Array.of(0x3a, inner.length + 5, ...inner);
    expect((await refusal(bytes)).message).toMatch(/truncated model: length \d+ at byte 1 runs past the end/);
    // A node inside the graph whose attribute length runs past the node's end.
    const bad = rawModel((gw) => gw.bytes(1, Uint8Array.of(0x2a, 0x7f, 0x0a, 0x01, 0x61)));
    expect((await refusal(bad)).message).toMatch(/truncated node #0: length 127/);
  });

  it('deep nesting: 3,000 nested graph attributes are skipped, not recursed into', async () => {
    let cur = new Uint8Array(0);
    for (let i = 0; i < 3000; i++) {
      const inner = new Writer();
      inner.bytes(1, cur);
      const a = new Writer(); a.string(1, 'body'); a.varint(20, 5); a.message(6, inner);
      cur = a.finish();
    }
    const bytes = rawModel((g) => {
      const n = node('Relu', ['x'], ['y']);
      n.bytes(5, cur);
      g.message(1, n);
      g.message(11, valueInfo('x', [2]));
      g.message(12, valueInfo('y', [2]));
    });
    const t0 = performance.now();
    expect((await refusal(bytes)).message).toMatch(/Relu.*attribute 'body'/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('a graph input whose type is a nested sequence is refused (it was taken for a float tensor)', async () => {
    let ty = new Writer();
    { const tt = new Writer(); tt.varint(1, 1); ty.message(1, tt); }
    for (let i = 0; i < 1000; i++) { const seq = new Writer(); seq.message(1, ty); const outer = new Writer(); outer.message(4, seq); ty = outer; }
    const bytes = rawModel((g) => {
      g.message(1, node('Relu', ['x'], ['y']));
      const v = new Writer(); v.string(1, 'x'); v.message(2, ty);
      g.message(11, v);
      g.message(12, valueInfo('y', [2]));
    });
    expect((await refusal(bytes)).message).toMatch(/graph input #0 'x' has type sequence_type; only tensor inputs and outputs are supported/);
  });

  it('dims that overflow: beyond 2^53, negative, and products past 2^31 elements', async () => {
    const dimsModel = (dims: bigint[]): Uint8Array => rawModel((g) => {
      const t = new Writer(); t.bytes(1, Uint8Array.from(dims.flatMap(varintBytes))); t.varint(2, 1); t.string(8, 'w'); t.bytes(9, new Uint8Array(4));
      g.message(5, t);
    });
    expect((await refusal(dimsModel([2n ** 53n + 1n]))).message).toMatch(/tensor 'w' has an invalid dimension 9007199254740992/);
    expect((await refusal(dimsModel([2n ** 64n - 1n]))).message).toMatch(/invalid dimension -1/);
    expect((await refusal(dimsModel([65536n, 65536n]))).message).toMatch(/tensor 'w' is too large: dims \[65536,65536\] exceed 2147483647 elements/);
    // A dim_value of 2^60 in a graph input's shape.
    const vi = rawModel((g) => {
      g.message(1, node('Relu', ['x'], ['y']));
      const shape = new Writer(); shape.bytes(1, Uint8Array.from([0x08, ...varintBytes(2n ** 60n)]));
      const tt = new Writer(); tt.varint(1, 1); tt.message(2, shape);
      const ty = new Writer(); ty.message(1, tt);
      const v = new Writer(); v.string(1, 'x'); v.message(2, ty);
      g.message(11, v);
      g.message(12, valueInfo('y', [1]));
    });
    expect((await refusal(vi)).message).toMatch(/graph input #0 has an invalid dimension 1152921504606847000/);
  });
});

// ---- graphs that lie ----------------------------------------------------------------------------

describe('inconsistent graphs', () => {
  it('a self-loop and a three-node cycle are refused, naming the nodes', async () => {
    const self = buildOnnxModel({ nodes: [{ op: 'Add', inputs: ['x', 'y'], outputs: ['y'], name: 'loop' }], inputs: [{ name: 'x', shape: [2] }], outputs: ['y'] });
    expect((await refusal(self)).message).toMatch(/cycle through node 'loop' \(Add\)/);
    const three = buildOnnxModel({ nodes: [
      { op: 'Add', inputs: ['x', 'c'], outputs: ['a'], name: 'A' },
      { op: 'Relu', inputs: ['a'], outputs: ['b'], name: 'B' },
      { op: 'Tanh', inputs: ['b'], outputs: ['c'], name: 'C' },
      { op: 'Relu', inputs: ['x'], outputs: ['y'], name: 'D' }], inputs: [{ name: 'x', shape: [2] }], outputs: ['y'] });
    expect((await refusal(three)).message).toMatch(/cycle through node 'A' \(Add\), node 'B' \(Relu\), node 'C' \(Tanh\)/);
  });

  it('an undefined input, a missing initializer and a missing graph output are refused by name', async () => {
    expect((await refusal(one('Conv', ['x', 'W'], {}, [1, 1, 4, 4]))).message)
      .toMatch(/node 'conv0' \(Conv\) reads 'W', which no node, initializer or graph input defines/);
    expect((await refusal(one('Gemm', ['x', 'B', 'C'], { B: zeros([2, 2]) }, [1, 2]))).message).toMatch(/reads 'C'/);
    const noOut = buildOnnxModel({ nodes: relu(), inputs: [{ name: 'x', shape: [2] }], outputs: ['z'] });
    expect((await refusal(noOut)).message).toMatch(/graph output 'z' is not produced/);
  });

  it('an initializer listed as a graph input with another type or shape is refused', async () => {
    const typed = (elemType: number, dims: number[]): Uint8Array => rawModel((g) => {
      g.message(1, node('Add', ['x', 'b'], ['y']));
      const t = new Writer(); t.packedVarint(1, [2]); t.varint(2, 1); t.string(8, 'b'); t.packedFloat(4, [1, 2]);
      g.message(5, t);
      g.message(11, valueInfo('x', [2]));
      g.message(11, valueInfo('b', dims, elemType));
      g.message(12, valueInfo('y', [2]));
    });
    expect((await refusal(typed(7, [2]))).message).toMatch(/graph input 'b' is declared with element type 7 but its initializer holds FLOAT \(1\) data/);
    expect((await refusal(typed(1, [3]))).message).toMatch(/graph input 'b' is declared with shape \[3\] but its initializer has dims \[2\]/);
    const m = await loadOnnx(typed(1, [2])); // the consistent IR-3 form still loads
    expect(Array.from(m.run(tensor([1, 1], [2])).toArray())).toEqual([2, 3]);
    m.dispose();
  });

  it('type mismatches: an integer initializer where floats belong, a DOUBLE input, an unknown data_location', async () => {
    expect((await refusal(one('Add', ['x', 's'], { s: { dims: [1], int64: [1] } }, [1]))).message).toMatch(/integer tensor; a float tensor is expected/);
    const dbl = rawModel((g) => { g.message(1, node('Relu', ['x'], ['y'])); g.message(11, valueInfo('x', [2], 11)); g.message(12, valueInfo('y', [2])); });
    expect((await refusal(dbl)).message).toMatch(/graph input 'x' has element type 11/);
    expect((await refusal(externalModel([], 2, 7))).message).toMatch(/tensor 'b' has data_location 7, expected DEFAULT \(0\) or EXTERNAL \(1\)/);
  });
});

// ---- memory ---------------------------------------------------------------------------------------

describe('the memory budget', () => {
  it('initializers past maxBytes are refused at load; the default budget is max(64 MiB, 4 x the file)', async () => {
    const bytes = buildOnnxModel({ nodes: [{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'] }], initializers: { b: zeros([1024, 256]) }, inputs: [{ name: 'x', shape: [1024, 256] }], outputs: ['y'] });
    expect((await refusal(bytes, { maxBytes: 512 * 1024 })).message)
      .toMatch(/^loadOnnx: tensor 'b' needs 1048576 bytes, which takes the decoded tensors to 1048576 bytes, over maxBytes 524288; pass a larger maxBytes/);
    (await loadOnnx(bytes, { maxBytes: 2 * MiB })).dispose();
    (await loadOnnx(bytes)).dispose();
    // Integer data is held as JS numbers: 8 bytes per element, from 1 byte per packed varint.
    const ints = buildOnnxModel({ nodes: relu(), initializers: { s: { dims: [100_000], int64: new Array(100_000).fill(1) } }, inputs: [{ name: 'x', shape: [1] }], outputs: ['y'] });
    expect((await refusal(ints, { maxBytes: 400_000 })).message).toMatch(/tensor 's' needs 800000 bytes/);
    await expect(loadOnnx(bytes, { maxBytes: -1 })).rejects.toThrow(/maxBytes must be a positive integer, got -1/);
    await expect(loadOnnx(bytes, { maxBytes: 1.5 })).rejects.toThrow(TypeError);
  });

  // Before the budget, each of these allocated (and filled) what it asked for when run: 1-16 GiB.
  // The sizes here ask for 16-64 MiB against a 4 MiB budget, so a regression costs little.
  const cases: [string, () => Uint8Array, Tensor, RegExp][] = [
    ['ConstantOfShape', () => one('ConstantOfShape', ['s'], { s: { dims: [2], int64: [4096, 1024] } }, [1]), tensor([0], [1]), /ConstantOfShape.*its output \(4194304 elements\) needs 16777216 bytes/],
    ['Expand', () => one('Expand', ['x', 's'], { s: { dims: [2], int64: [4096, 1024] } }, [1]), tensor([0], [1]), /Expand.*its output \(4194304 elements\)/],
    ['Tile', () => one('Tile', ['x', 'r'], { r: { dims: [1], int64: [4 * MiB] } }, [1]), tensor([0], [1]), /Tile.*its output \(4194304 elements\)/],
    ['Pad', () => one('Pad', ['x', 'p'], { p: { dims: [4], int64: [0, 0, 2048, 2048] } }, [1, 1]), tensor([0], [1, 1]), /needs \d+ bytes .* over the memory budget of 4194560 bytes/],
    ['Resize', () => one('Resize', ['x', '', 's'], { s: { dims: [4], float: [1, 1, 2048, 2048] } }, [1, 1, 1, 1]), zeros([1, 1, 1, 1]), /Resize.*its output \(4194304 elements\)/],
    ['Range', () => one('Range', ['a', 'b', 'c'], { a: { dims: [], float: [0] }, b: { dims: [], float: [4 * MiB] }, c: { dims: [], float: [1] } }, [1]), tensor([0], [1]), /Range.*its output \(4194304 elements\)/],
    ['Conv pads', () => one('Conv', ['x', 'w'], { w: zeros([4, 1, 1, 1]) }, [1, 1, 1, 1], { pads: [1000, 1000, 1000, 1000] }), zeros([1, 1, 1, 1]), /needs \d+ bytes .* over the memory budget/],
    // Found by bench/fuzz-onnx.ts: a 3-D pool with one pad of 10^6 ran for more than 10 s (a 24M-element output).
    ['AveragePool pads', () => one('AveragePool', ['x'], {}, [1, 1, 4, 4, 4], { kernel_shape: [3, 3, 3], pads: [0, 1_000_000, 0, 0, 0, 0] }), zeros([1, 1, 4, 4, 4]),
      /AveragePool.*its output \(4000008 elements\) needs 16000032 bytes/],
  ];
  for (const [name, make, x, reason] of cases) {
    it(`${name} asking for more than the budget is refused before it allocates`, async () => {
      const before = rssMiB();
      const err = await runRefusal(make(), x, { maxBytes: 4 * MiB });
      expect(err.message).toMatch(/^OnnxModel\.run: /);
      expect(err.message).toMatch(reason);
      expect(err.message).toMatch(/maxBytes 4194304 \+ 64 x the \d+ input bytes/);
      expect(rssMiB() - before).toBeLessThan(12);
    });
  }

  it('a pool whose windows would visit more than 2^36 positions is refused before it runs (it hung)', async () => {
    // Found by bench/fuzz-onnx.ts (seed 2): kernel_shape [2^31-1, 2] with SAME_LOWER padding, a
    // 32x32 output, every window position visited: hours. (A window that wide is now refused by
    // itself, below; this one is within that bound and still over the work limit.)
    const bytes = one('AveragePool', ['x'], {}, [1, 3, 32, 32], { kernel_shape: [2 ** 23, 16], auto_pad: 'SAME_LOWER' });
    const t0 = performance.now();
    const err = await runRefusal(bytes, zeros([1, 3, 32, 32]));
    expect(err.message).toMatch(/^OnnxModel\.run: node 'averagepool0' \(AveragePool\): its 3072 output elements times kernel_shape \[8388608,16\] are 412316860416 window positions, over the limit of 2\^36/);
    expect(performance.now() - t0).toBeLessThan(2000);
  }, 20_000);

  it('a pool window wider than 2^24 cells is refused, planned and exact (it asked for 8 GiB)', async () => {
    // Found by bench/fuzz-onnx.ts (seed 4): MaxPool kernel_shape [3, 2^31 - 1] with SAME_UPPER on a
    // 5x5 input: 9 outputs, under the work limit, but the native kernel's padded row was 2^31 floats
    // and the exact path looped over every tap (8.4 GB peak RSS, 112 s).
    for (const [kernel, autoPad] of [[[3, 2 ** 31 - 1], 'SAME_UPPER'], [[2 ** 24 + 1, 3], 'SAME_LOWER']] as const) {
      const bytes = one('MaxPool', ['x'], {}, [1, 1, 5, 5], { kernel_shape: [...kernel], strides: [2, 2], auto_pad: autoPad });
      for (const fuse of [true, false]) {
        const before = rssMiB();
        const err = await runRefusal(bytes, zeros([1, 1, 5, 5]), { fuse });
        expect(err).toBeInstanceOf(RangeError);
        expect(err.message).toMatch(new RegExp(`^OnnxModel\\.run: node 'maxpool0' \\(MaxPool\\):.*the pooling window spans ${Math.max(...kernel)} cells along spatial axis ${kernel[0] > 3 ? 0 : 1} \\(kernel \\[${kernel.join(',')}\\], dilation \\[1,1\\]\\); at most 16777216`));
        expect(rssMiB() - before).toBeLessThan(12);
      }
    }
  });

  it('Resize with negative sizes is refused naming them (it was "Invalid typed array length: -32")', async () => {
    const bytes = one('Resize', ['x', '', '', 'sz'], { sz: { dims: [4], int64: [-2, 0, 2, -1] } }, [1, 1, 2, 2]);
    const err = await runRefusal(bytes, zeros([1, 1, 2, 2]));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toMatch(/^OnnxModel\.run: node 'resize0' \(Resize\): sizes \[-2,0,2,-1\] must be non-negative integers/);
  });

  it('the same ops within the budget run, and the budget grows with the input', async () => {
    const m = await loadOnnx(one('Pad', ['x', 'p'], { p: { dims: [4], int64: [0, 0, 0, 64] } }, [1, null]), { maxBytes: 1024 });
    expect(m.run(zeros([1, 1])).shape).toEqual([1, 65]);
    // 2 x 300 floats out of 300 input floats: within 1024 + 64 x 1200 bytes.
    expect(m.run(zeros([1, 300])).shape).toEqual([1, 364]);
    m.dispose();
    const c = await loadOnnx(one('ConstantOfShape', ['s'], { s: { dims: [2], int64: [1024, 1024] } }, [1]));
    expect(c.run(tensor([0], [1])).shape).toEqual([1024, 1024]); // 4 MiB, within the default 64 MiB
    c.dispose();
    // 128 MiB from a 123-byte file: over the default budget, which says how it was computed.
    const big = await runRefusal(one('ConstantOfShape', ['s'], { s: { dims: [2], int64: [32768, 1024] } }, [1]), tensor([0], [1]));
    expect(big.message).toMatch(/its output \(33554432 elements\) needs 134217728 bytes \(128\.0 MiB\), over the memory budget of 67109120 bytes \(the default budget of 64\.0 MiB \(max\(64 MiB, 4 x the \d+-byte file\)\) \+ 64 x the 4 input bytes\)/);
  });
});

// ---- external data --------------------------------------------------------------------------------

describe('external data', () => {
  let base = '';
  const w = new Uint8Array(new Float32Array([1.5, 2.5, 7, 8]).buffer);
  beforeAll(() => {
    base = path.join(dir, 'base');
    fs.mkdirSync(path.join(base, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(base, 'w.bin'), w);
    fs.writeFileSync(path.join(base, 'sub', 'w.bin'), w);
    fs.writeFileSync(path.join(dir, 'secret.bin'), w);
    fs.symlinkSync(path.join(dir, 'secret.bin'), path.join(base, 'out.bin'));
    fs.symlinkSync('/dev/zero', path.join(base, 'zero'));
    fs.symlinkSync('w.bin', path.join(base, 'in.bin'));
    execFileSync('mkfifo', [path.join(base, 'fifo')]);
  });
  const save = (bytes: Uint8Array, name = 'm.onnx'): string => {
    const f = path.join(base, name);
    fs.writeFileSync(f, bytes);
    return f;
  };
  const x = (): Tensor => tensor([1, 1], [2]);

  it('inside the model directory: loaded, with offset and length', async () => {
    const cases: [[string, string][], number[]][] = [
      [[['location', 'w.bin'], ['length', '8']], [2.5, 3.5]],
      [[['location', 'w.bin'], ['offset', '8'], ['length', '8']], [8, 9]],
      [[['location', 'w.bin'], ['offset', '8']], [8, 9]], // to the end of the file
      [[['location', 'sub/w.bin'], ['offset', '4'], ['length', '8'], ['checksum', 'ignored']], [3.5, 8]],
      [[['location', './in.bin'], ['length', '8']], [2.5, 3.5]], // a symlink that stays inside
    ];
    for (const [entries, want] of cases) {
      const m = await loadOnnx(save(externalModel(entries)));
      expect(Array.from(m.run(x()).toArray())).toEqual(want);
      m.dispose();
    }
  });

  it('from bytes: refused without baseDir, loaded with it', async () => {
    const bytes = externalModel([['location', 'w.bin'], ['length', '8']]);
    expect((await refusal(bytes)).message)
      .toMatch(/tensor 'b' has external data in 'w.bin', but the model was loaded from bytes without a baseDir; pass loadOnnx\(bytes, \{ baseDir \}\)/);
    const m = await loadOnnx(bytes, { baseDir: base });
    expect(Array.from(m.run(x()).toArray())).toEqual([2.5, 3.5]);
    m.dispose();
    // An explicit baseDir replaces the model's own directory: sub/w.bin is looked for in sub/.
    const sub = externalModel([['location', 'sub/w.bin'], ['length', '8']]);
    (await loadOnnx(save(sub, 'm2.onnx'))).dispose();
    expect((await refusal(save(sub, 'm2.onnx'), { baseDir: path.join(base, 'sub') })).message)
      .toMatch(/external data file 'sub\/w\.bin' cannot be opened: ENOENT/);
    await expect(loadOnnx(bytes, { baseDir: 42 as unknown as string })).rejects.toThrow(/baseDir must be a non-empty string/);
  });

  const refused: [string, [string, string][], RegExp][] = [
    ['..', [['location', '../secret.bin'], ['length', '8']], /location '\.\.\/secret\.bin' contains '\.\.'; it must stay inside the base directory/],
    ['.. after a subdirectory', [['location', 'sub/../../secret.bin']], /contains '\.\.'/],
    ['an absolute path', [['location', '/etc/passwd']], /location '\/etc\/passwd' is an absolute path/],
    ['a symlink out of the directory', [['location', 'out.bin'], ['length', '8']], /location 'out\.bin' resolves to '.*secret\.bin', outside the base directory/],
    ['a symlink to /dev/zero', [['location', 'zero'], ['length', '8']], /resolves to '\/dev\/zero', outside the base directory/],
    ['a FIFO (reading it would block)', [['location', 'fifo'], ['length', '8']], /external data 'fifo' is not a regular file/],
    ['a directory', [['location', 'sub']], /external data 'sub' is not a regular file/],
    ['a missing file', [['location', 'nope.bin'], ['length', '8']], /external data file 'nope\.bin' cannot be opened: ENOENT/],
    ['no location', [['length', '8']], /has no 'location'/],
    ['an empty location', [['location', '']], /is not a file name/],
    ['offset past the end', [['location', 'w.bin'], ['offset', '12'], ['length', '8']], /asks for bytes 12\.\.20 of 'w\.bin', which has 16 bytes/],
    ['a length past the end', [['location', 'w.bin'], ['length', '99999999999']], /asks for bytes 0\.\.99999999999 of 'w\.bin', which has 16 bytes/],
    ['a length that does not match the dims', [['location', 'w.bin'], ['length', '12']], /tensor 'b' needs 8 bytes of external data but its length is 12/],
    ['a negative offset', [['location', 'w.bin'], ['offset', '-4']], /'offset' is '-4', expected a non-negative decimal byte count/],
    ['a non-decimal length', [['location', 'w.bin'], ['length', '8e0']], /'length' is '8e0'/],
    ['a key given twice', [['location', 'w.bin'], ['location', 'sub/w.bin']], /has key 'location' twice/],
  ];
  for (const [name, entries, reason] of refused) {
    it(`refused: ${name}`, async () => {
      const err = await refusal(save(externalModel(entries)));
      expect(err.message).toMatch(/^loadOnnx: tensor 'b' /);
      expect(err.message).toMatch(reason);
    });
  }

  it('external data that also has data in the file, or entries without EXTERNAL, is refused', async () => {
    expect((await refusal(save(externalModel([['location', 'w.bin']], 2, 0)))).message).toMatch(/has external_data entries but data_location 0 is not EXTERNAL/);
    const both = rawModel((g) => {
      const t = new Writer(); t.packedVarint(1, [2]); t.varint(2, 1); t.string(8, 'b'); t.bytes(9, new Uint8Array(8));
      const e = new Writer(); e.string(1, 'location'); e.string(2, 'w.bin'); t.message(13, e); t.varint(14, 1);
      g.message(1, node('Add', ['x', 'b'], ['y'])); g.message(5, t); g.message(11, valueInfo('x', [2])); g.message(12, valueInfo('y', [2]));
    });
    expect((await refusal(save(both))).message).toMatch(/has external data and also data in the file/);
  });

  it('external data counts against maxBytes, and raises the default budget', async () => {
    expect((await refusal(save(externalModel([['location', 'w.bin']], 4)), { maxBytes: 8 })).message)
      .toMatch(/tensor 'b' needs 16 bytes, which takes the decoded tensors to 16 bytes, over maxBytes 8/);
    // 80 MiB of external weights under a 300-byte model: the default budget counts them as the file.
    const big = path.join(base, 'big.bin');
    fs.writeFileSync(big, new Uint8Array(80 * MiB));
    try {
      const m = await loadOnnx(save(externalModel([['location', 'big.bin']], 20 * MiB)));
      expect(m.run(zeros([20 * MiB])).shape).toEqual([20 * MiB]);
      m.dispose();
    } finally {
      fs.rmSync(big);
    }
  });
});

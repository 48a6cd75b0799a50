/** Tensor factories, copies, item, reshape, seeded randomness, shape errors (API.md "Tensor"). */
import { describe, expect, it } from 'vitest';
import { Tensor, tensor, zeros, ones, full, randn, rand, manualSeed, ops, clone } from '../lib/index';

describe('factories', () => {
  it('zeros / ones / full have the shape, size, dtype and values', () => {
    const z = zeros([2, 3]);
    expect(z.shape).toEqual([2, 3]);
    expect(z.size).toBe(6);
    expect(z.dtype).toBe('float32');
    expect(Array.from(z.toArray())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(ones([4]).toArray())).toEqual([1, 1, 1, 1]);
    expect(Array.from(full([2, 2], 2.5).toArray())).toEqual([2.5, 2.5, 2.5, 2.5]);
    expect(zeros([]).size).toBe(1);
    expect(zeros([3, 0]).size).toBe(0);
  });

  it('tensor / Tensor.from copy their input (Float32Array and plain arrays)', () => {
    const src = new Float32Array([1, 2, 3, 4]);
    const t = Tensor.from(src, [2, 2]);
    src[0] = 99;
    expect(t.toArray()[0]).toBe(1);
    const arr = [5, 6, 7];
    const u = tensor(arr, [3]);
    arr[0] = -1;
    expect(Array.from(u.toArray())).toEqual([5, 6, 7]);
    expect(Array.from(tensor(Float64Array.of(0.1, 0.2), [2]).toArray())).toEqual([Math.fround(0.1), Math.fround(0.2)]);
  });

  it('shape is frozen and copied', () => {
    const shape = [2, 3];
    const t = zeros(shape);
    shape[0] = 7;
    expect(t.shape).toEqual([2, 3]);
    expect(Object.isFrozen(t.shape)).toBe(true);
  });

  it('toArray is a copy', () => {
    const t = tensor([1, 2, 3], [3]);
    const a = t.toArray();
    a[0] = 100;
    expect(t.toArray()[0]).toBe(1);
    expect(a).toBeInstanceOf(Float32Array);
    expect(t.toArray()).not.toBe(t.toArray());
  });

  it('item() returns the value of a size-1 tensor and throws otherwise', () => {
    expect(tensor([3.5], [1]).item()).toBe(3.5);
    expect(tensor([-2], [1, 1, 1, 1]).item()).toBe(-2);
    expect(tensor([7], []).item()).toBe(7);
    expect(() => tensor([1, 2], [2]).item()).toThrow(RangeError);
    expect(() => tensor([1, 2], [2]).item()).toThrow(/item/);
  });

  it('clone copies, reshape shares', () => {
    const t = tensor([1, 2, 3, 4], [4]);
    const c = clone(t);
    const r = t.reshape([2, 2]);
    (t as unknown as { data: Float32Array }).data[1] = 9;
    expect(c.toArray()[1]).toBe(2);
    expect(r.toArray()[1]).toBe(9);
  });
});

describe('t.data (read without a copy)', () => {
  it('is the backing array itself: no copy, shared by reshape views, unlike toArray', () => {
    const t = tensor([1, 2, 3, 4], [2, 2]);
    expect(t.data).toBe(t.data);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
    expect(t.reshape([4]).data).toBe(t.data);
    expect(t.toArray()).not.toBe(t.data);
  });

  it('holds an op result as computed and throws once disposed', () => {
    const y = ops.relu(tensor([-1, 2, -3, 4], [4]));
    expect(Array.from(y.data)).toEqual([0, 2, 0, 4]);
    y.dispose();
    expect(() => y.data).toThrow(/disposed/);
  });
});

describe('reshape', () => {
  it('with -1 infers the dimension', () => {
    const t = zeros([2, 3, 4]);
    expect(t.reshape([-1]).shape).toEqual([24]);
    expect(t.reshape([4, -1]).shape).toEqual([4, 6]);
    expect(t.reshape([-1, 2, 3]).shape).toEqual([4, 2, 3]);
    expect(t.reshape([2, 3, 4]).shape).toEqual([2, 3, 4]);
    expect(tensor([5], [1]).reshape([]).shape).toEqual([]);
  });
  it('keeps the data order (row-major)', () => {
    const t = tensor([0, 1, 2, 3, 4, 5], [2, 3]);
    expect(Array.from(t.reshape([3, 2]).toArray())).toEqual([0, 1, 2, 3, 4, 5]);
  });
  it('rejects incompatible shapes with a RangeError naming both shapes', () => {
    const t = zeros([2, 3]);
    expect(() => t.reshape([4, 2])).toThrow(RangeError);
    expect(() => t.reshape([4, 2])).toThrow(/\[2,3\].*\[4,2\]/);
    expect(() => t.reshape([-1, -1])).toThrow(RangeError);
    expect(() => t.reshape([0, -1])).toThrow(RangeError);
  });
});

describe('seeded randomness', () => {
  it('randn / rand with the same seed are identical; different seeds differ', () => {
    const a = randn([1000], { seed: 42 }).toArray(), b = randn([1000], { seed: 42 }).toArray();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(randn([1000], { seed: 43 }).toArray())).not.toEqual(Array.from(a));
    const u = rand([1000], { seed: 7 }).toArray();
    expect(Array.from(u)).toEqual(Array.from(rand([1000], { seed: 7 }).toArray()));
  });
  it('manualSeed makes unseeded randn / rand / dropout reproducible', () => {
    manualSeed(123);
    const a = randn([50]).toArray(), u = rand([50]).toArray(), d = ops.dropout(ones([64]), 0.5, true).toArray();
    manualSeed(123);
    expect(Array.from(randn([50]).toArray())).toEqual(Array.from(a));
    expect(Array.from(rand([50]).toArray())).toEqual(Array.from(u));
    expect(Array.from(ops.dropout(ones([64]), 0.5, true).toArray())).toEqual(Array.from(d));
    expect(() => manualSeed(1.5)).toThrow(TypeError);
    expect(() => manualSeed(NaN)).toThrow(TypeError);
  });
  it('rand is uniform in [0, 1); randn has mean ~0 and std ~1', () => {
    const u = rand([20000], { seed: 1 }).toArray();
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    const mu = u.reduce((s, v) => s + v, 0) / u.length;
    expect(Math.abs(mu - 0.5)).toBeLessThan(0.01);
    const n = randn([20000], { seed: 2 }).toArray();
    const m = n.reduce((s, v) => s + v, 0) / n.length;
    const sd = Math.sqrt(n.reduce((s, v) => s + (v - m) ** 2, 0) / n.length);
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });
  it('a non-integer seed is a RangeError', () => {
    expect(() => randn([2], { seed: 1.5 })).toThrow(RangeError);
    expect(() => rand([2], ('x' as unknown) as { seed: number })).toThrow(TypeError);
  });
});

describe('shape errors', () => {
  it.each([
    ['Tensor.from length mismatch', () => Tensor.from([1, 2, 3], [2, 2]), RangeError],
    ['negative dim', () => zeros([2, -1]), RangeError],
    ['non-integer dim', () => ones([2.5]), RangeError],
    ['NaN dim', () => full([NaN], 1), RangeError],
    ['shape not an array', () => zeros((3 as unknown) as number[]), TypeError],
    ['too many elements', () => zeros([65536, 65536]), RangeError],
    ['full value a string', () => full([2], ('1' as unknown) as number), TypeError],
    ['data not array-like', () => tensor((5 as unknown) as number[], [1]), TypeError],
  ] as [string, () => unknown, typeof Error][])('%s', (_n, fn, cls) => {
    expect(fn).toThrow(cls);
  });
});

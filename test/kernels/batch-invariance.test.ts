import { describe, expect, it } from 'vitest';
import { concat, ops, randn, setBackend, tensor, tidy, type Tensor } from '../../lib/index';

// A batch gives bit-identical rows to its samples run one by one (seed item 2), on every ISA: the
// small-batch dense path (gemv) and the GEMM path accumulate each output in the same order.
function sample(x: Tensor, i: number): Tensor {
  const per = x.size / x.shape[0];
  return tensor(x.toArray().subarray(i * per, (i + 1) * per), [1, ...x.shape.slice(1)]);
}

describe.each(['native', 'js'] as const)('batch invariance (%s)', (backend) => {
  it.each([[1, 7, 5], [9, 400, 120], [13, 1000, 33], [6, 2048, 17]])('linear N=%i in=%i out=%i', (N, inF, outF) => {
    setBackend(backend);
    tidy(() => {
      const x = randn([N, inF], { seed: 1 }), w = randn([outF, inF], { seed: 2 }), b = randn([outF], { seed: 3 });
      const whole = ops.linear(x, w, b).toArray();
      const rows = concat(Array.from({ length: N }, (_, i) => ops.linear(sample(x, i), w, b))).toArray();
      expect(Array.from(rows)).toEqual(Array.from(whole));
    });
  });

  it.each([[5, 3, 9, 8], [3, 16, 14, 17]])('conv2d N=%i C=%i H=%i outC=%i', (N, C, H, outC) => {
    setBackend(backend);
    tidy(() => {
      const x = randn([N, C, H, H], { seed: 4 }), w = randn([outC, C, 3, 3], { seed: 5 }), b = randn([outC], { seed: 6 });
      const whole = ops.conv2d(x, w, b, { padding: 1 }).toArray();
      const per = concat(Array.from({ length: N }, (_, i) => ops.conv2d(sample(x, i), w, b, { padding: 1 }))).toArray();
      expect(Array.from(per)).toEqual(Array.from(whole));
    });
  });
});

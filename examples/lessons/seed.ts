/** The worked examples' inputs, as the seeds give them (SEEDS.md E13 and E16). */
import { Tensor, tensor } from '../../lib/index';

/** E13 (seed 001 L49-57): Ng's 7x7 strided-convolution input. */
export const E13_INPUT = [
  2, 3, 7, 4, 6, 2, 9,
  6, 6, 9, 8, 7, 4, 3,
  3, 4, 8, 3, 8, 9, 7,
  7, 8, 3, 6, 6, 3, 4,
  4, 2, 1, 8, 3, 4, 6,
  3, 2, 4, 1, 9, 8, 3,
  0, 1, 3, 9, 2, 1, 4,
];
/** Its 3x3 filter, from the superscripts on rows 3-5. */
export const E13_FILTER = [3, 4, 4, 1, 0, 2, -1, 0, 3];

/** E16 (seed 001 L121-145): the 4x4 pooling input. */
export const E16_INPUT = [1, 3, 2, 1, 2, 9, 1, 1, 1, 3, 2, 3, 5, 6, 1, 2];

export const e13Input = (): Tensor => tensor(E13_INPUT, [1, 1, 7, 7]);
export const e13Filter = (): Tensor => tensor(E13_FILTER, [1, 1, 3, 3]);
export const e16Input = (): Tensor => tensor(E16_INPUT, [1, 1, 4, 4]);

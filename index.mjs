// ESM entry: re-exports the CommonJS build so `import { ops } from 'simdcnn'` and
// `require('simdcnn')` share one module instance (one tensor registry, one addon).
import { createRequire } from 'module';
const require = createRequire(import.meta.url);
const m = require('./dist/lib/index.js');
export const {
  Tensor, tensor, zeros, ones, full, randn, rand, tidy, keep, setBufferPoolLimit, memory, manualSeed,
  setBackend, getBackend, setNumThreads, getNumThreads, cpuInfo, ops,
  sub, div, matmul, sum, mean, argmax, concat, clone, detach,
  noGrad, io, optim, fit, evaluate, compileTrainStep, TrainStep, nn, models, receptiveField, serve, viz,
} = m;
export default m;

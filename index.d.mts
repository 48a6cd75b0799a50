// Types of the ESM entry (index.mjs): the CommonJS build's names, and its module object as the
// default export (index.mjs re-exports the one CommonJS instance).
export * from './dist/lib/index.js';
import * as simdcnn from './dist/lib/index.js';
export default simdcnn;

/** Backend selection: 'native' (default, the C++ SIMD core) or 'js' (the pure-TS reference). */
import type { Backend } from './types';
import type { NativeAddon, NativeCpuInfo } from './addon-types';
import { loadAddon } from './loader';
import { makeNativeBackend } from './native';
import { jsBackend } from './js/index';

let addon: NativeAddon | null = null;
let native: Backend | null = null;
let current: Backend | null = null;

export function getAddon(): NativeAddon {
  if (!addon) addon = loadAddon();
  return addon;
}

function nativeBackend(): Backend {
  if (!native) native = makeNativeBackend(getAddon());
  return native;
}

/** The backend ops run on now. */
export function backend(): Backend {
  if (!current) current = nativeBackend();
  return current;
}

/**
 * Selects where ops run: 'native' (the C++ SIMD core, default) or 'js' (pure TypeScript).
 * @example setBackend('js'); const y = ops.relu(x); setBackend('native');
 */
export function setBackend(name: 'native' | 'js'): void {
  if (name === 'native') current = nativeBackend();
  else if (name === 'js') current = jsBackend;
  else throw new RangeError(`setBackend: name must be 'native' or 'js', got ${JSON.stringify(name)}`);
}

export function getBackend(): 'native' | 'js' {
  return backend().name;
}

/** Intra-op threads of the native core (1..256). Results do not depend on it. */
export function setNumThreads(n: number): void {
  if (typeof n !== 'number') throw new TypeError(`setNumThreads: n must be a number, got ${typeof n}`);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new RangeError(`setNumThreads: n must be an integer in [1, 256], got ${n}`);
  }
  getAddon().setNumThreads(n);
}

export function getNumThreads(): number {
  return getAddon().getNumThreads();
}

/** The kernels chosen at load time (SIMDCNN_ISA forces one) and the thread count. */
export function cpuInfo(): NativeCpuInfo & { backend: 'native' | 'js' } {
  return { ...getAddon().cpuInfo(), backend: getBackend() };
}

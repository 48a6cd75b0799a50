import { liveStats, pooledBytes } from './tensor';
import { getAddon } from './backend/index';

/**
 * Live tensors and their data bytes (storage shared by reshape views counted once), the native
 * bytes held in scratch and caches, and the bytes of op-output arrays kept for reuse by the
 * buffer pool (see setBufferPoolLimit).
 */
export function memory(): { tensors: number; bytes: number; native: number; pooled: number } {
  const { tensors, bytes } = liveStats();
  let native = 0;
  try {
    native = getAddon().nativeBytes();
  } catch {
    native = 0; // no addon: nothing is held natively
  }
  return { tensors, bytes, native, pooled: pooledBytes() };
}

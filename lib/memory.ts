import { liveStats } from './tensor';
import { getAddon } from './backend/index';

/**
 * Live tensors and their data bytes (storage shared by reshape views counted once), plus the
 * native bytes held in scratch and caches.
 */
export function memory(): { tensors: number; bytes: number; native: number } {
  const { tensors, bytes } = liveStats();
  let native = 0;
  try {
    native = getAddon().nativeBytes();
  } catch {
    native = 0; // no addon: nothing is held natively
  }
  return { tensors, bytes, native };
}

/**
 * Running a forward pass off the JS thread. The forward is captured: it runs through the ordinary
 * ops on the native backend while the addon records each kernel call (after validating it) instead
 * of executing it, pinning the arrays it borrows; the recorded calls then run in order on a libuv
 * worker thread and the Promise settles when they are done. Shapes and allocations happen on the
 * JS thread (cheap); the arithmetic does not block the event loop.
 *
 * An op that needs values on the JS thread during the forward (a loss, sum, argmax, clone, a
 * training-mode batch norm) cannot be captured; the forward is then run synchronously instead and
 * the Promise resolves with the same result.
 */
import { Tensor, tidy, keep, captureState, CaptureUnsupportedError, asyncState, asyncDone } from './tensor';
import { noGrad } from './autograd/tape';
import { getAddon, getBackend } from './backend/index';


interface CaptureAddon {
  beginCapture(): void;
  abortCapture(): void;
  runCaptureAsync(): Promise<void>;
}

/**
 * Runs fn (a forward pass returning one tensor) under noGrad with its kernels on a worker thread.
 * Tensors created inside fn other than the result are disposed.
 */
export async function runOffThread(fn: () => Tensor): Promise<Tensor> {
  const sync = () => noGrad(() => tidy(fn));
  if (getBackend() !== 'native' || captureState.active) return sync();
  const addon = getAddon() as unknown as CaptureAddon;
  addon.beginCapture();
  captureState.active = true;
  // Arrays disposed from now until the kernels have run may still be read or written by them.
  asyncState.pending++;
  let out: Tensor;
  try {
    out = noGrad(() => tidy(() => keep(fn())));
  } catch (e) {
    addon.abortCapture();
    captureState.active = false;
    asyncDone();
    if (e instanceof CaptureUnsupportedError || (e instanceof Error && /cannot run inside forwardAsync/.test(e.message))) {
      return sync();
    }
    throw e;
  }
  captureState.active = false;
  try {
    await addon.runCaptureAsync();
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    asyncDone();
  }
  return out;
}

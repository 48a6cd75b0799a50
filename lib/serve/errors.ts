/** Errors of the serving layer: each carries a stable `code` that callers (and the HTTP server) switch on. */

/**
 * Why a request failed:
 * - `QUEUE_FULL`: maxQueueSize requests were already waiting (rejected at once, nothing queued);
 * - `TIMEOUT`: timeoutMs passed before the result was ready;
 * - `ABORTED`: the request's AbortSignal fired;
 * - `CLOSED`: the batcher (or pool) was closed before the request ran, or infer() came after close();
 * - `INVALID_INPUT`: the input is not a `[1, ...]` Tensor of the shape the model takes;
 * - `INFERENCE_FAILED`: the model's forward threw (`cause` holds its error).
 */
export type ServeErrorCode = 'QUEUE_FULL' | 'TIMEOUT' | 'ABORTED' | 'CLOSED' | 'INVALID_INPUT' | 'INFERENCE_FAILED';

/**
 * An Error with a stable `code`.
 * @example
 * try { await batcher.infer(x); } catch (e) { if (e instanceof serve.ServeError && e.code === 'QUEUE_FULL') retryLater(); }
 */
export class ServeError extends Error {
  readonly code: ServeErrorCode;

  constructor(code: ServeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServeError';
    this.code = code;
  }
}

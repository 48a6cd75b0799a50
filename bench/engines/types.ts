/** The contract of one benchmarked engine. */
import type { Tensor } from '../../lib/index';
import type { Workload } from '../workloads';

export interface BenchCase {
  workload: Workload;
  batch: number;
  threads: number;
  /** The input batch, NCHW, shared by every engine. */
  input: Float32Array;
}

export interface Runner {
  /** One forward pass of the whole batch; returns the output (NCHW order, or see outputNHWC). */
  run(): Promise<Float32Array> | Float32Array;
  /** Set when run() returns an NHWC [N, H, W, C] output (tfjs convolutions). */
  outputNHWC?: [number, number, number, number];
  dispose(): void | Promise<void>;
}

export interface Engine {
  name: string;
  /** true, or the reason it cannot run here (not installed, ...). */
  available(): boolean | string;
  /** Whether the engine honours a thread count; single-threaded engines run at threads=1 only. */
  threaded: boolean;
  /** Restricts the engine to some cases (default: all). */
  applies?(c: BenchCase): boolean;
  /** A note printed under the table (threading caveats, ...). */
  note?: string;
  prepare(c: BenchCase, weights: Record<string, Tensor>): Promise<Runner>;
}

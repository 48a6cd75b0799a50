/**
 * External tensor data (TensorProto.data_location = EXTERNAL, external_data entries `location`,
 * `offset`, `length`): the bytes live in a file next to the model. The location is untrusted: it
 * is resolved inside one base directory (the model's own directory, or `baseDir`), and refused when
 * it is absolute, climbs out with `..`, or resolves (through symlinks) to a file outside it; the
 * file must be a regular file, and offset + length must lie within it. Only the requested bytes
 * are read, after the memory budget has accepted them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fail } from './protobuf';
import type { MemoryBudget } from './limits';

export interface ExternalRef {
  location: string;
  offset: number;
  /** null: to the end of the file */
  length: number | null;
}

/** Parses offset / length values: decimal digits only (ONNX writes them with str(int)). */
function byteCount(label: string, key: string, v: string): number {
  if (!/^[0-9]{1,16}$/.test(v)) fail(`${label} external_data '${key}' is '${v.slice(0, 40)}', expected a non-negative decimal byte count`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) fail(`${label} external_data '${key}' ${v} is not a safe integer`);
  return n;
}

/** The external_data entries of a tensor as a reference; fails on a missing or malformed key. */
export function externalRef(label: string, entries: readonly { key: string; value: string }[]): ExternalRef {
  let location: string | null = null, offset = 0, length: number | null = null;
  const seen = new Set<string>();
  for (const { key, value } of entries) {
    if (seen.has(key)) fail(`${label} external_data has key '${key}' twice`);
    seen.add(key);
    if (key === 'location') location = value;
    else if (key === 'offset') offset = byteCount(label, key, value);
    else if (key === 'length') length = byteCount(label, key, value);
    // 'checksum' (and keys of newer versions) do not change where the bytes are.
  }
  if (location === null) fail(`${label} uses external data but its external_data has no 'location'`);
  return { location, offset, length };
}

/** Reads external data for the tensors of one model file. */
export class ExternalData {
  private realBase: string | null = null;

  /**
   * @param baseDir the directory locations are relative to; null when the model came as bytes
   *   without a baseDir (external data is then refused)
   */
  constructor(readonly baseDir: string | null) {}

  private base(label: string): string {
    if (this.realBase === null) {
      try {
        this.realBase = fs.realpathSync(this.baseDir!);
      } catch (e) {
        fail(`${label} uses external data but the base directory '${this.baseDir}' cannot be resolved: ${(e as Error).message}`);
      }
      if (!fs.statSync(this.realBase).isDirectory()) fail(`${label}: the base directory '${this.baseDir}' is not a directory`);
    }
    return this.realBase;
  }

  /**
   * The bytes ref names (a fresh, aligned copy). expectBytes is what the tensor's dims and type
   * need; they are checked against the file, and charged to the budget, before anything is
   * allocated.
   */
  read(label: string, ref: ExternalRef, expectBytes: number, budget: MemoryBudget): Uint8Array {
    const loc = ref.location;
    if (this.baseDir === null) {
      fail(`${label} has external data in '${loc.slice(0, 200)}', but the model was loaded from bytes without a baseDir; pass loadOnnx(bytes, { baseDir }) to allow reading inside that directory`);
    }
    if (loc === '' || loc.includes('\0')) fail(`${label} external_data location ${JSON.stringify(loc.slice(0, 200))} is not a file name`);
    if (path.isAbsolute(loc) || path.win32.isAbsolute(loc)) {
      fail(`${label} external_data location '${loc.slice(0, 200)}' is an absolute path; it must be relative to the base directory`);
    }
    if (loc.split(/[\\/]/).includes('..')) {
      fail(`${label} external_data location '${loc.slice(0, 200)}' contains '..'; it must stay inside the base directory`);
    }
    const base = this.base(label);
    let real: string;
    try {
      real = fs.realpathSync(path.join(base, loc));
    } catch (e) {
      return fail(`${label} external data file '${loc.slice(0, 200)}' cannot be opened: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const rel = path.relative(base, real);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
      fail(`${label} external_data location '${loc.slice(0, 200)}' resolves to '${real}', outside the base directory '${base}' (a symlink?)`);
    }
    let fd: number;
    try {
      // The resolved path has no symlinks: O_NOFOLLOW refuses one swapped in since; O_NONBLOCK
      // keeps a FIFO swapped in from blocking the open (fstat then refuses it).
      fd = fs.openSync(real, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (fs.constants.O_NOFOLLOW ?? 0));
    } catch (e) {
      return fail(`${label} external data file '${loc.slice(0, 200)}' cannot be opened: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) fail(`${label} external data '${loc.slice(0, 200)}' is not a regular file`);
      const length = ref.length ?? Math.max(st.size - ref.offset, 0);
      if (ref.offset > st.size || length > st.size - ref.offset) {
        fail(`${label} external data asks for bytes ${ref.offset}..${ref.offset + length} of '${loc.slice(0, 200)}', which has ${st.size} bytes`);
      }
      if (length !== expectBytes) {
        fail(`${label} needs ${expectBytes} bytes of external data but its length is ${length}${ref.length === null ? ' (to the end of the file)' : ''}`);
      }
      budget.addExternal(length);
      budget.charge(length, label);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = fs.readSync(fd, out, done, length - done, ref.offset + done);
        if (n <= 0) fail(`${label} external data file '${loc.slice(0, 200)}' ended after ${done} of ${length} bytes (it changed while loading?)`);
        done += n;
      }
      return out;
    } finally {
      fs.closeSync(fd);
    }
  }
}

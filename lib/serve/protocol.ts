/**
 * The Open Inference Protocol (KServe v2, Triton's HTTP/REST API) as far as this server speaks it:
 * request validation and response shapes. Every check throws an HttpError whose message says what
 * was expected and what came; nothing here trusts a field's type, a dimension or a length.
 * https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/
 */

/** An HTTP status and the reason, answered as JSON `{ error }`. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The model as `GET /v2/models/{name}` describes it. */
export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: { name: string; datatype: 'FP32'; shape: number[] }[];
  outputs: { name: string; datatype: 'FP32'; shape: number[] }[];
}

/** What the request validator needs to know about the model. */
export interface ModelSignature {
  inputName: string;
  outputName: string;
  /** One sample's shape, without the batch axis. */
  sampleShape: readonly number[];
}

/** A validated infer request: `batch` samples, row-major. */
export interface InferRequest {
  id?: string;
  batch: number;
  data: Float32Array;
  /** The client asked for the output as binary data (Triton's binary tensor data extension). */
  binaryOutput: boolean;
}

/** A `parameters` object: absent, or an object (its own fields are checked where they are read). */
function params(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, `${where}.parameters must be an object, got ${kind(v)}`);
  return v as Record<string, unknown>;
}

function flag(p: Record<string, unknown>, key: string, where: string): boolean {
  const v = p[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new HttpError(400, `${where}.parameters.${key} must be a boolean, got ${kind(v)}`);
  return v;
}

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}` : typeof v);

/**
 * The JSON body, parsed, with nesting bounded: V8's JSON.parse is iterative (a million nested
 * arrays parse without a stack overflow), so depth is checked after parsing, on every value except
 * the tensors' data, whose depth parseInferRequest bounds by the tensor's rank.
 */
export function parseJsonBody(body: Buffer, maxDepth = 32): unknown {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON: ${(e as Error).message}`);
  }
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (d > maxDepth) throw new HttpError(400, `the JSON body is nested more than ${maxDepth} levels deep`);
    const items = Array.isArray(x) ? x : Object.values(x as object);
    for (const c of items) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return v;
}

/**
 * Validates `{ id?, inputs: [{ name, shape, datatype: 'FP32', data }], outputs?: [{ name }] }`
 * against the model: one input of the model's name, shape [N, ...sampleShape] with 1 <= N <=
 * maxBatch, data a flat or nested array of exactly N * prod(sampleShape) finite numbers.
 *
 * With `binary` (the bytes after the JSON header of Triton's binary tensor data extension), the
 * input has `parameters: { binary_data_size }` instead of `data`, and those bytes are its
 * little-endian FP32 values: the size must be N * prod(sampleShape) * 4 and take all of `binary`.
 * `parameters.binary_data_output` (request) or `outputs[i].parameters.binary_data` asks for the
 * output the same way.
 */
export function parseInferRequest(body: unknown, sig: ModelSignature, maxBatch: number, binary: Buffer | null = null): InferRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, `the request must be a JSON object, got ${kind(body)}`);
  const b = body as Record<string, unknown>;
  let id: string | undefined;
  if (b.id !== undefined) {
    if (typeof b.id !== 'string' || b.id.length > 256) throw new HttpError(400, `'id' must be a string of at most 256 characters, got ${kind(b.id)}`);
    id = b.id;
  }
  if (!Array.isArray(b.inputs) || b.inputs.length === 0) throw new HttpError(400, `'inputs' must be a non-empty array, got ${kind(b.inputs)}`);
  if (b.inputs.length !== 1) {
    throw new HttpError(400, `the model has one input ('${sig.inputName}'); the request has ${b.inputs.length} inputs`);
  }
  const t = b.inputs[0] as Record<string, unknown>;
  if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new HttpError(400, `inputs[0] must be an object, got ${kind(t)}`);
  if (typeof t.name !== 'string') throw new HttpError(400, `inputs[0].name must be a string, got ${kind(t.name)}`);
  if (t.name !== sig.inputName) throw new HttpError(400, `unknown input ${JSON.stringify(t.name.slice(0, 100))}; the model's input is '${sig.inputName}'`);
  if (t.datatype !== 'FP32') throw new HttpError(400, `inputs[0].datatype must be 'FP32' (the only datatype served), got ${kind(t.datatype)}`);
  const rank = sig.sampleShape.length + 1;
  const want = `[N, ${sig.sampleShape.join(', ')}] with 1 <= N <= ${maxBatch}`;
  const shape = t.shape;
  if (!Array.isArray(shape)) throw new HttpError(400, `inputs[0].shape must be an array, got ${kind(shape)}`);
  if (shape.length !== rank) throw new HttpError(400, `inputs[0].shape must have ${rank} dims, ${want}; got ${shape.length} dims`);
  for (let i = 0; i < rank; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d)) throw new HttpError(400, `inputs[0].shape[${i}] must be an integer, got ${kind(d)}`);
    if (d < 1) throw new HttpError(400, `inputs[0].shape[${i}] must be positive, got ${d}`);
  }
  const batch = shape[0] as number;
  if (batch > maxBatch) throw new HttpError(400, `inputs[0].shape[0] (the batch) must be at most ${maxBatch}, got ${batch}`);
  for (let i = 1; i < rank; i++) {
    if (shape[i] !== sig.sampleShape[i - 1]) {
      throw new HttpError(400, `inputs[0].shape must be ${want}; got [${shape.join(', ')}]`);
    }
  }
  const per = sig.sampleShape.reduce((a, c) => a * c, 1);
  const n = batch * per;
  const out = new Float32Array(n);
  const size = params(t.parameters, 'inputs[0]').binary_data_size;
  if (size !== undefined) {
    if (binary === null) throw new HttpError(400, 'inputs[0].parameters.binary_data_size needs the binary tensor data extension (an Inference-Header-Content-Length header)');
    if (t.data !== undefined) throw new HttpError(400, 'inputs[0] has both data and parameters.binary_data_size');
    if (size !== n * 4) throw new HttpError(400, `inputs[0].parameters.binary_data_size must be ${n * 4} (${n} FP32 values for shape [${shape.join(', ')}]), got ${kind(size) === 'number' ? size : kind(size)}`);
    if (binary.length !== size) throw new HttpError(400, `the binary data after the JSON header is ${binary.length} bytes; inputs[0].parameters.binary_data_size says ${size}`);
    // The bytes may sit at any offset of the body: copy them into an aligned array (little-endian host).
    new Uint8Array(out.buffer).set(binary);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(out[i])) throw new HttpError(400, `inputs[0] binary value ${i} is ${out[i]}; finite numbers only`);
    }
  } else {
    if (binary !== null && binary.length > 0) throw new HttpError(400, `${binary.length} bytes follow the JSON header, but no input has parameters.binary_data_size`);
    fill(t.data, shape as number[], out);
  }
  let binaryOutput = flag(params(b.parameters, 'the request'), 'binary_data_output', 'the request');
  if (b.outputs !== undefined) {
    if (!Array.isArray(b.outputs)) throw new HttpError(400, `'outputs' must be an array, got ${kind(b.outputs)}`);
    for (const [i, o] of b.outputs.entries()) {
      const name = (o as Record<string, unknown> | null)?.name;
      if (o === null || typeof o !== 'object' || typeof name !== 'string') throw new HttpError(400, `outputs[${i}] must be an object with a string 'name'`);
      if (name !== sig.outputName) throw new HttpError(400, `unknown output ${JSON.stringify(name.slice(0, 100))}; the model's output is '${sig.outputName}'`);
      binaryOutput = flag(params((o as Record<string, unknown>).parameters, `outputs[${i}]`), 'binary_data', `outputs[${i}]`) || binaryOutput;
    }
  }
  return { id, batch, data: out, binaryOutput };
}

/** Copies data (flat, or nested to the shape) into out, checking every element and every length. */
function fill(data: unknown, shape: number[], out: Float32Array): void {
  if (!Array.isArray(data)) throw new HttpError(400, `inputs[0].data must be an array of numbers, got ${kind(data)}`);
  const n = out.length;
  if (data.length === n && !Array.isArray(data[0])) {
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(400, `inputs[0].data[${i}] must be a finite number, got ${kind(v)}`);
      out[i] = v;
    }
    return;
  }
  if (data.length > 0 && !Array.isArray(data[0])) {
    throw new HttpError(400, `inputs[0].data has ${data.length} elements; shape [${shape.join(', ')}] needs ${n}`);
  }
  // Nested row-major arrays: each level's length must be that dim; depth is the rank, no deeper.
  let k = 0;
  const walk = (a: unknown, level: number, where: string): void => {
    if (!Array.isArray(a)) throw new HttpError(400, `inputs[0].data${where} must be an array of ${shape[level]}, got ${kind(a)}`);
    if (a.length !== shape[level]) throw new HttpError(400, `inputs[0].data${where} has ${a.length} elements; shape [${shape.join(', ')}] needs ${shape[level]} there`);
    if (level === shape.length - 1) {
      for (let i = 0; i < a.length; i++) {
        const v = a[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(400, `inputs[0].data${where}[${i}] must be a finite number, got ${kind(v)}`);
        out[k++] = v;
      }
      return;
    }
    for (let i = 0; i < a.length; i++) walk(a[i], level + 1, `${where}[${i}]`);
  };
  walk(data, 0, '');
}

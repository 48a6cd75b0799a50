/**
 * simdcnn behind HTTP: the Open Inference Protocol (KServe v2 / Triton REST) on node:http.
 *
 * node:http and no framework: one dependency fewer, and the limits that matter under hostile load
 * are ours to set exactly: the body limit is checked from Content-Length before a byte of the body
 * is buffered (and counted while a chunked body streams), header and whole-request deadlines are
 * the server's own headersTimeout / requestTimeout, every error is a JSON `{ error }`.
 *
 * The server is stateless (the model is loaded at start and never changes), so any number of them
 * can stand behind a load balancer; readiness (`/v2/health/ready`) turns 503 as soon as a drain
 * starts, which takes the instance out of rotation before it stops.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import * as client from 'prom-client';
import { Tensor } from '../tensor';
import { memory } from '../memory';
import { Batcher } from './batcher';
import { ServeError } from './errors';
import { moduleEngine, onnxEngine, type BatchEngine } from './engine';
import { loadServable, type Servable } from './models';
import { Pool } from './pool';
import { OrtEngine } from './ort-engine';
import { HttpError, parseInferRequest, parseJsonBody, type ModelMetadata, type ModelSignature } from './protocol';
import { decodeImage, toModelInput, topK, DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image';
import type { Module } from '../nn/module';
import type { OnnxModel } from '../io/onnx/model';

export interface ServerOptions {
  /** 'lenet5' | 'resnet18' (seeded random weights) or the path of an ONNX file. */
  model: string;
  /** The name in /v2/models/{name} (default: 'lenet5', 'resnet18' or the file's name without .onnx). */
  name?: string;
  /** Default '127.0.0.1' (loopback: expose it on purpose, e.g. '0.0.0.0' in a container). */
  host?: string;
  /** Default 8000; 0 picks a free port (see `port` once started). */
  port?: number;
  /** Batcher: rows per forward (default 8; 1 turns batching off). */
  maxBatchSize?: number;
  /** Batcher: how long the oldest request waits for company while the model is idle, ms (default 0). */
  maxQueueDelayMs?: number;
  /** Batcher: requests waiting; more get 503 (default 256). */
  maxQueueSize?: number;
  /**
   * Batcher: the batch sizes forwards run at (partial batches padded with zeros). Default: the
   * powers of two up to maxBatchSize, and maxBatchSize (1, 2, 4, 8): few shapes, so the model's
   * plan cache (4 shapes for an nn Module, 8 for an ONNX file) never has to rebuild under load.
   * 'any': every batch at its own size.
   */
  batchSizes?: readonly number[] | 'any';
  /** Worker threads running forwards (0, the default: forwardAsync in this process). */
  workers?: number;
  /**
   * Intra-op threads: of each worker's forwards (default max(1, cores / workers)), or of
   * onnxruntime-node (default the cores). In-process simdcnn uses setNumThreads (the CLI's --threads).
   */
  threads?: number;
  /** 'simdcnn' (default) or 'ort': the same server on onnxruntime-node, for comparisons. */
  engine?: 'simdcnn' | 'ort';
  /** Seed of a built-in model's weights (default 0). */
  seed?: number;
  /** Sample shape for an ONNX file whose input dims are free, e.g. [3, 224, 224]. */
  inputShape?: number[];
  /** Largest request body, bytes (default 16 MiB; a ResNet-18 sample is ~2-3 MB of JSON). */
  bodyLimitBytes?: number;
  /** Most samples in one infer request (default 64). */
  maxRequestBatch?: number;
  /** A request waiting longer than this for its result gets 504 (default 10000 ms). */
  inferTimeoutMs?: number;
  /** The client must send all headers within this (default 10000 ms; then 408). */
  headersTimeoutMs?: number;
  /** The client must send the whole request within this (default 30000 ms; then 408). */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections close after this (default 5000 ms). */
  keepAliveTimeoutMs?: number;
  /** A drain gives in-flight requests at most this long (default 30000 ms). */
  drainTimeoutMs?: number;
  /** Image endpoint: the decoded-size limits. */
  imageLimits?: Partial<ImageLimits>;
  /** Where one line per event goes (default: nowhere). */
  log?: (line: string) => void;
}

type Route = 'infer' | 'classify' | 'metadata' | 'health' | 'metrics' | 'other';

const JSON_TYPE = 'application/json';
const OCTET_TYPE = 'application/octet-stream';

function positive(name: string, v: number | undefined, dflt: number, min = 1): number {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min) throw new RangeError(`serve: ${name} must be a number >= ${min}, got ${String(v)}`);
  return x;
}

/** The JSON status code for a batcher error. */
function statusOf(e: ServeError): number {
  switch (e.code) {
    case 'QUEUE_FULL': case 'CLOSED': return 503;
    case 'TIMEOUT': return 504;
    case 'INVALID_INPUT': return 400;
    case 'ABORTED': return 499;
    default: return 500;
  }
}

/**
 * A running inference server.
 * @example
 * const server = await serve.startServer({ model: 'lenet5', port: 0 });
 * const r = await fetch(`${server.url}/v2/models/lenet5/infer`, { method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: pixels }] }) });
 * await server.close();
 */
export class InferenceServer {
  readonly name: string;
  readonly metadata: ModelMetadata;
  readonly registry: client.Registry;
  private draining = false;
  private inflight = 0;
  private idle: (() => void)[] = [];
  private closedPromise: Promise<void> | null = null;

  /** @internal use startServer */
  constructor(
    private readonly http: http.Server,
    readonly batcher: Batcher,
    private readonly engineClose: () => Promise<void>,
    private readonly sig: ModelSignature,
    private readonly opts: Required<Pick<ServerOptions, 'bodyLimitBytes' | 'maxRequestBatch' | 'inferTimeoutMs' | 'drainTimeoutMs'>> & { imageLimits: ImageLimits; log: (l: string) => void },
    metadata: ModelMetadata,
    registry: client.Registry,
    private readonly m: Metrics,
  ) {
    this.name = metadata.name;
    this.metadata = metadata;
    this.registry = registry;
    http.on('request', (req, res) => { this.handle(req, res); });
    // `Expect: 100-continue` (curl sends it above 1 KiB): the body is invited only when its
    // declared length fits; otherwise the 413 goes out before the client sends a byte of it.
    http.on('checkContinue', (req, res) => {
      const n = Number(req.headers['content-length']);
      if (!(n > this.opts.bodyLimitBytes)) res.writeContinue();
      this.handle(req, res);
    });
    http.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.clientError(err, socket));
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get host(): string {
    return (this.http.address() as AddressInfo).address;
  }

  get url(): string {
    const h = this.host;
    return `http://${h.includes(':') ? `[${h}]` : h}:${this.port}`;
  }

  /** True from the start of a drain: readiness is 503 and new requests are refused with 503. */
  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Stops taking work: readiness turns 503, new requests get 503, requests in flight finish
   * (at most drainTimeoutMs), then the listener, the batcher and the engine close. Idempotent.
   */
  close(): Promise<void> {
    if (this.closedPromise) return this.closedPromise;
    this.draining = true;
    this.opts.log(`draining: ${this.inflight} request(s) in flight`);
    this.closedPromise = (async () => {
      if (this.inflight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((r) => this.idle.push(r)),
          new Promise<void>((r) => { timer = setTimeout(r, this.opts.drainTimeoutMs); }),
        ]);
        clearTimeout(timer);
      }
      await new Promise<void>((r) => {
        this.http.close(() => r());
        this.http.closeAllConnections();
      });
      await this.batcher.close();
      await this.engineClose();
      this.opts.log('closed');
    })();
    return this.closedPromise;
  }

  private clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    // Node's own parser errors and deadlines, answered as JSON like every other error.
    const msg = socket as Socket & { _httpMessage?: { headersSent?: boolean } };
    if (!socket.writable || msg._httpMessage?.headersSent || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, text, reason] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'the request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
        : [400, 'Bad Request', `malformed HTTP request (${err.code ?? err.message})`];
    const body = JSON.stringify({ error: reason });
    this.m.requests.inc({ route: 'other', status: String(status) });
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    socket.destroySoon?.();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const t0 = performance.now();
    const url = req.url ?? '/';
    const pathname = url.split('?')[0];
    const route = routeOf(pathname);
    res.on('finish', () => {
      this.m.requests.inc({ route, status: String(res.statusCode) });
      this.m.latency.observe({ route }, (performance.now() - t0) / 1000);
    });
    if (this.draining && pathname !== '/v2/health/live') {
      res.setHeader('Connection', 'close');
      this.send(res, 503, { error: 'the server is shutting down' });
      req.resume();
      return;
    }
    this.inflight++;
    this.m.inflight.inc();
    res.on('close', () => {
      this.inflight--;
      this.m.inflight.dec();
      if (this.inflight === 0) {
        const w = this.idle;
        this.idle = [];
        for (const f of w) f();
      }
    });
    this.dispatch(req, res, pathname, url).catch((e: unknown) => this.fail(req, res, e));
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, url: string): Promise<void> {
    if (pathname === '/v2/health/live') return this.get(req, res, () => ({ live: true }));
    if (pathname === '/v2/health/ready') return this.get(req, res, () => ({ ready: true }));
    if (pathname === '/v2') return this.get(req, res, () => ({ name: 'simdcnn', version: VERSION, extensions: [] }));
    if (pathname === '/metrics') {
      if (req.method !== 'GET') throw new HttpError(405, `${req.method} ${pathname}: only GET`, { Allow: 'GET' });
      req.resume();
      const text = await this.registry.metrics();
      res.writeHead(200, { 'Content-Type': this.registry.contentType });
      res.end(text);
      return;
    }
    const m = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer|\/classify)?$/.exec(pathname);
    if (!m) throw new HttpError(404, `no such endpoint: ${pathname.slice(0, 200)}`);
    const name = safeDecode(m[1]);
    if (name !== this.name) throw new HttpError(404, `unknown model ${JSON.stringify(name.slice(0, 100))}; this server serves '${this.name}'`);
    if (m[2] !== undefined && m[2] !== '1') throw new HttpError(404, `unknown version ${JSON.stringify(safeDecode(m[2]).slice(0, 20))} of '${this.name}'; the only version is '1'`);
    const action = m[3];
    if (action === undefined) return this.get(req, res, () => this.metadata);
    if (action === '/ready') return this.get(req, res, () => ({ name: this.name, ready: true }));
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} ${pathname}: only POST`, { Allow: 'POST' });
    return action === '/infer' ? this.infer(req, res) : this.classify(req, res, url);
  }

  private get(req: http.IncomingMessage, res: http.ServerResponse, body: () => unknown): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} ${req.url}: only GET`, { Allow: 'GET' });
    req.resume();
    this.send(res, 200, body());
  }

  private async infer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Triton's binary tensor data extension: the first N bytes are the JSON request, the rest the
    // tensors' raw bytes (no JSON parse of 150,528 numbers for one ResNet-18 sample).
    const header = req.headers['inference-header-content-length'];
    const binaryIn = header !== undefined;
    requireType(req, binaryIn ? [OCTET_TYPE, JSON_TYPE] : [JSON_TYPE]);
    let jsonLength = -1;
    if (binaryIn) {
      jsonLength = Number(header);
      if (!/^\d{1,10}$/.test(String(header)) || !Number.isSafeInteger(jsonLength)) {
        throw new HttpError(400, `Inference-Header-Content-Length must be a byte count, got ${JSON.stringify(String(header).slice(0, 40))}`);
      }
    }
    const body = await readBody(req, this.opts.bodyLimitBytes);
    if (binaryIn && jsonLength > body.length) {
      throw new HttpError(400, `Inference-Header-Content-Length is ${jsonLength}, but the body is ${body.length} bytes`);
    }
    const json = binaryIn ? body.subarray(0, jsonLength) : body;
    const r = parseInferRequest(parseJsonBody(json), this.sig, this.opts.maxRequestBatch, binaryIn ? body.subarray(jsonLength) : null);
    const rows = await this.run(req, res, r.data, r.batch);
    if (!rows) return;
    const outShape = [r.batch, ...rows.shape];
    const output: Record<string, unknown> = { name: this.sig.outputName, shape: outShape, datatype: 'FP32' };
    if (r.binaryOutput) output.parameters = { binary_data_size: rows.data.byteLength };
    else output.data = Array.from(rows.data);
    const out: Record<string, unknown> = { model_name: this.name, model_version: '1', outputs: [output] };
    if (r.id !== undefined) out.id = r.id;
    if (!r.binaryOutput) {
      this.send(res, 200, out);
      return;
    }
    const head = Buffer.from(JSON.stringify(out));
    const raw = Buffer.from(rows.data.buffer, rows.data.byteOffset, rows.data.byteLength);
    if (res.headersSent || res.destroyed) return;
    res.writeHead(200, {
      'Content-Type': OCTET_TYPE, 'Content-Length': head.length + raw.length, 'Inference-Header-Content-Length': head.length,
    });
    res.end(Buffer.concat([head, raw]));
  }

  private async classify(req: http.IncomingMessage, res: http.ServerResponse, url: string): Promise<void> {
    const type = requireType(req, ['image/png', 'image/jpeg']);
    const k = topKParam(url, this.metadata.outputs[0].shape.slice(1).reduce((a, b) => a * b, 1));
    const body = await readBody(req, this.opts.bodyLimitBytes);
    const img = decodeImage(body, type === 'image/png' ? 'png' : 'jpeg', this.opts.imageLimits);
    const x = toModelInput(img, this.sig.sampleShape);
    const rows = await this.run(req, res, x, 1);
    if (!rows) return;
    this.send(res, 200, { model_name: this.name, model_version: '1', width: img.width, height: img.height, top: topK(rows.data, k) });
  }

  /** The batch's rows through the batcher; null when the client went away first. */
  private async run(req: http.IncomingMessage, res: http.ServerResponse, data: Float32Array, batch: number): Promise<{ data: Float32Array; shape: number[] } | null> {
    const ac = new AbortController();
    const onClose = (): void => { if (!res.writableEnded) ac.abort(); };
    res.on('close', onClose);
    const per = data.length / batch;
    const pending: Promise<Tensor>[] = [];
    for (let i = 0; i < batch; i++) {
      const x = Tensor.wrap(data.subarray(i * per, (i + 1) * per), [1, ...this.sig.sampleShape]);
      // infer() copies x before it returns.
      pending.push(this.batcher.infer(x, { signal: ac.signal, timeoutMs: this.opts.inferTimeoutMs }));
      x.dispose();
    }
    const settled = await Promise.allSettled(pending);
    res.off('close', onClose);
    const ok = settled.filter((s): s is PromiseFulfilledResult<Tensor> => s.status === 'fulfilled').map((s) => s.value);
    const bad = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    try {
      if (bad) {
        if (ac.signal.aborted) return null;
        throw bad.reason;
      }
      const po = ok[0].size;
      const outData = new Float32Array(po * batch);
      ok.forEach((t, i) => outData.set(t.data, i * po));
      return { data: outData, shape: ok[0].shape.slice(1) };
    } finally {
      for (const t of ok) t.dispose();
    }
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private fail(req: http.IncomingMessage, res: http.ServerResponse, e: unknown): void {
    if (e instanceof HttpError) {
      const headers = { ...e.headers };
      // A body we refused to read is not drained: close the connection after answering.
      if (!req.complete) headers.Connection = 'close';
      this.send(res, e.status, { error: e.message }, headers);
      if (!req.complete) res.on('finish', () => req.destroy());
      return;
    }
    if (e instanceof ServeError) {
      const status = statusOf(e);
      if (status === 499) return; // the client is gone
      this.send(res, status, { error: e.message, code: e.code }, e.code === 'QUEUE_FULL' ? { 'Retry-After': '1' } : {});
      return;
    }
    if ((e as { clientGone?: boolean })?.clientGone) return;
    this.opts.log(`internal error on ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`);
    this.send(res, 500, { error: `internal error: ${(e as Error)?.message ?? String(e)}` });
  }
}

const VERSION: string = (() => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return String(require(path.resolve(__dirname, '..', '..', 'package.json')).version ?? '');
  } catch {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      return String(require(path.resolve(__dirname, '..', '..', '..', 'package.json')).version ?? '');
    } catch {
      return '';
    }
  }
})();

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function routeOf(p: string): Route {
  if (p.startsWith('/v2/health')) return 'health';
  if (p === '/metrics') return 'metrics';
  if (p.endsWith('/infer')) return 'infer';
  if (p.endsWith('/classify')) return 'classify';
  if (p.startsWith('/v2')) return 'metadata';
  return 'other';
}

/** The media type (without parameters) if it is one of `allowed`; otherwise 415. */
function requireType(req: http.IncomingMessage, allowed: string[]): string {
  const raw = req.headers['content-type'];
  const type = (raw ?? '').split(';')[0].trim().toLowerCase();
  if (!allowed.includes(type)) {
    throw new HttpError(415, `Content-Type must be ${allowed.join(' or ')}, got ${raw === undefined ? 'none' : JSON.stringify(raw.slice(0, 100))}`);
  }
  return type;
}

function topKParam(url: string, classes: number): number {
  const q = url.includes('?') ? new URLSearchParams(url.slice(url.indexOf('?') + 1)) : null;
  const raw = q?.get('top_k') ?? q?.get('k');
  if (raw === null || raw === undefined) return Math.min(5, classes);
  const k = Number(raw);
  if (!Number.isInteger(k) || k < 1 || k > classes) throw new HttpError(400, `top_k must be an integer from 1 to ${classes}, got ${JSON.stringify(raw.slice(0, 20))}`);
  return k;
}

/**
 * The body, at most `limit` bytes: a larger Content-Length is refused before a byte is read, a
 * chunked body once its running total passes the limit (413 either way).
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const n = Number(declared);
    if (!Number.isSafeInteger(n) || n < 0) return Promise.reject(new HttpError(400, `invalid Content-Length ${JSON.stringify(declared.slice(0, 40))}`));
    if (n > limit) return Promise.reject(new HttpError(413, `the body is ${n} bytes; the limit is ${limit}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (e: unknown, v?: Buffer): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      if (e) reject(e); else resolve(v!);
    };
    const onData = (c: Buffer): void => {
      total += c.length;
      if (total > limit) {
        req.pause();
        finish(new HttpError(413, `the body passed the limit of ${limit} bytes while streaming`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => finish(null, Buffer.concat(chunks, total)));
    req.on('error', (e) => finish(Object.assign(e, { clientGone: true })));
    req.on('aborted', () => finish(Object.assign(new Error('the client went away'), { clientGone: true })));
  });
}

interface Metrics {
  requests: client.Counter<'route' | 'status'>;
  latency: client.Histogram<'route'>;
  inflight: client.Gauge;
}

/**
 * Starts a server: loads the model (and the pool's workers), runs one warm-up forward to learn the
 * output shape, then listens.
 * @example const server = await serve.startServer({ model: 'resnet18', port: 8000, maxBatchSize: 8, workers: 2 });
 */
export async function startServer(options: ServerOptions): Promise<InferenceServer> {
  if (options === null || typeof options !== 'object') throw new TypeError(`serve.startServer: options must be an object, got ${String(options)}`);
  const log = options.log ?? (() => {});
  const workers = options.workers ?? 0;
  if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`serve: workers must be an integer >= 0, got ${String(workers)}`);
  const engineKind = options.engine ?? 'simdcnn';
  if (engineKind !== 'simdcnn' && engineKind !== 'ort') throw new RangeError(`serve: engine must be 'simdcnn' or 'ort', got ${String(engineKind)}`);
  if (engineKind === 'ort' && workers > 0) throw new RangeError('serve: --workers applies to the simdcnn engine; onnxruntime-node runs its own threads');
  const name = options.name ?? defaultName(options.model);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new RangeError(`serve: the model name must be 1-64 of A-Z a-z 0-9 _ . -, got ${JSON.stringify(name)}`);
  const headersTimeout = positive('headersTimeoutMs', options.headersTimeoutMs, 10_000);
  const requestTimeout = positive('requestTimeoutMs', options.requestTimeoutMs, 30_000);
  if (headersTimeout > requestTimeout) throw new RangeError(`serve: headersTimeoutMs (${headersTimeout}) must not exceed requestTimeoutMs (${requestTimeout})`);

  let engine: BatchEngine;
  let engineClose: () => Promise<void>;
  let sig: Omit<ModelSignature, 'outputName'> & { outputName: string };
  let platform: string;
  if (workers > 0) {
    const pool = await Pool.create({ model: options.model, workers, seed: options.seed, inputShape: options.inputShape, threads: options.threads });
    engine = pool;
    engineClose = () => pool.close();
    sig = { inputName: pool.inputName, outputName: pool.outputName, sampleShape: pool.sampleShape.slice() };
    platform = 'simdcnn';
  } else {
    const s: Servable = loadServable(options.model, { seed: options.seed, inputShape: options.inputShape });
    sig = { inputName: s.inputName, outputName: s.outputName, sampleShape: s.sampleShape };
    if (engineKind === 'ort') {
      const ort = await OrtEngine.create(s.onnxBytes(), { sampleShape: s.sampleShape, threads: options.threads });
      s.model.dispose();
      engine = ort;
      engineClose = () => ort.close();
      platform = 'onnxruntime';
    } else {
      const base = s.kind === 'module' ? moduleEngine(s.model as Module) : onnxEngine(s.model as OnnxModel);
      engine = { ...base, sampleShape: s.sampleShape, run: base.run };
      engineClose = async () => { s.model.dispose(); };
      platform = 'simdcnn';
    }
  }
  // One warm-up forward: the output shape for the metadata, and the first plan built before traffic.
  const per = sig.sampleShape.reduce((a, b) => a * b, 1);
  const probe = await engine.run(new Float32Array(per), [1, ...sig.sampleShape]);
  const outputShape = probe.shape.slice(1);
  probe.release?.();

  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const metrics: Metrics = {
    requests: new client.Counter({ name: 'simdcnn_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] }),
    latency: new client.Histogram({
      name: 'simdcnn_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['route'], registers: [registry],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    inflight: new client.Gauge({ name: 'simdcnn_http_requests_in_flight', help: 'HTTP requests being handled', registers: [registry] }),
  };
  const batchSize = new client.Histogram({
    name: 'simdcnn_batch_size', help: 'Rows per batched forward', registers: [registry], buckets: [1, 2, 4, 8, 16, 32, 64, 128],
  });
  const batchSeconds = new client.Histogram({
    name: 'simdcnn_batch_duration_seconds', help: 'Time of one batched forward', registers: [registry],
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  });
  const maxBatchSize = options.maxBatchSize ?? 8;
  const batchSizes = options.batchSizes === 'any' ? undefined : options.batchSizes ?? powersOfTwo(maxBatchSize);
  const batcher = new Batcher(engine, {
    maxBatchSize, maxQueueDelayMs: options.maxQueueDelayMs ?? 0, maxQueueSize: options.maxQueueSize ?? 256, batchSizes,
    onBatch: (b) => { batchSize.observe(b.size); batchSeconds.observe(b.seconds); },
  });
  new client.Gauge({ name: 'simdcnn_queue_depth', help: 'Requests waiting for a batch', registers: [registry], collect() { this.set(batcher.queueDepth); } });
  new client.Gauge({ name: 'simdcnn_batches_in_flight', help: 'Batched forwards running', registers: [registry], collect() { this.set(batcher.inFlight); } });
  const mem = new client.Gauge({
    name: 'simdcnn_memory', help: "simdcnn's memory() in this process: live tensors, their bytes, native bytes, pooled bytes",
    labelNames: ['kind'], registers: [registry],
    collect() {
      const m = memory();
      this.set({ kind: 'tensors' }, m.tensors);
      this.set({ kind: 'bytes' }, m.bytes);
      this.set({ kind: 'native' }, m.native);
      this.set({ kind: 'pooled' }, m.pooled);
    },
  });
  void mem;

  const metadata: ModelMetadata = {
    name, versions: ['1'], platform,
    inputs: [{ name: sig.inputName, datatype: 'FP32', shape: [-1, ...sig.sampleShape] }],
    outputs: [{ name: sig.outputName, datatype: 'FP32', shape: [-1, ...outputShape] }],
  };
  const server = http.createServer({
    headersTimeout, requestTimeout, keepAliveTimeout: options.keepAliveTimeoutMs ?? 5000,
    // Node checks the two deadlines on this interval (30 s by default, which would let a slow
    // client hold a socket far past headersTimeout).
    connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(headersTimeout / 4))),
  } as http.ServerOptions);
  const inst = new InferenceServer(server, batcher, engineClose, sig, {
    bodyLimitBytes: positive('bodyLimitBytes', options.bodyLimitBytes, 16 * 2 ** 20),
    maxRequestBatch: positive('maxRequestBatch', options.maxRequestBatch, 64),
    inferTimeoutMs: positive('inferTimeoutMs', options.inferTimeoutMs, 10_000),
    drainTimeoutMs: positive('drainTimeoutMs', options.drainTimeoutMs, 30_000, 0),
    imageLimits: { ...DEFAULT_IMAGE_LIMITS, ...options.imageLimits },
    log,
  }, metadata, registry, metrics);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8000, options.host ?? '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
  } catch (e) {
    // EADDRINUSE and the like: the workers and the model go too, or the process would hang on them.
    await batcher.close();
    await engineClose();
    throw new Error(`serve: cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 8000}: ${(e as Error).message}`);
  }
  log(`serving '${name}' (${platform}, input [N, ${sig.sampleShape.join(', ')}], output [N, ${outputShape.join(', ')}]) on ${inst.url}`);
  return inst;
}

/** 1, 2, 4, ... up to n, and n itself. */
function powersOfTwo(n: number): number[] {
  const out: number[] = [];
  for (let b = 1; b < n; b *= 2) out.push(b);
  if (Number.isInteger(n) && n >= 1) out.push(n);
  return out;
}

function defaultName(model: string): string {
  if (model === 'lenet5' || model === 'resnet18') return model;
  return path.basename(model).replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64) || 'model';
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { manualSeed, models, noGrad, randn, serve } from '../../lib/index';
import { BIN, postJson, rawExchange, request, spawnServer, type Reply } from './helpers';

const LIMIT = 64 * 1024;
let server: serve.InferenceServer;
let base: string;
const sample = randn([1, 1, 28, 28], { seed: 11 });
const pixels = Array.from(sample.toArray());
manualSeed(0);
const ref = models.lenet5().eval(); // the server's lenet5 is models.lenet5() after manualSeed(0)
const expected = Array.from(noGrad(() => ref.call(sample)).toArray());

const good = (data: unknown = pixels, shape: unknown = [1, 1, 28, 28], extra: Record<string, unknown> = {}) =>
  ({ inputs: [{ name: 'input', shape, datatype: 'FP32', data, ...extra }] });

function png(width: number, height: number, fill: (x: number, y: number) => number): Buffer {
  const p = new PNG({ width, height });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const o = (y * width + x) * 4, v = fill(x, y);
    p.data[o] = v; p.data[o + 1] = v; p.data[o + 2] = v; p.data[o + 3] = 255;
  }
  return PNG.sync.write(p);
}

/** A PNG signature and an IHDR declaring width x height, then a scrap of IDAT: never decodable. */
function pngHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(8 + 25 + 20);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b[24] = 8; b[25] = 6;
  b.writeUInt32BE(8, 33);
  b.write('IDAT', 37, 'latin1');
  return b;
}

beforeAll(async () => {
  server = await serve.startServer({
    model: 'lenet5', port: 0, bodyLimitBytes: LIMIT, maxQueueDelayMs: 1,
    headersTimeoutMs: 300, requestTimeoutMs: 600,
  });
  base = server.url;
});

afterAll(async () => {
  await server?.close();
  ref.dispose();
});

describe('simdcnn-serve in-process (Open Inference Protocol)', () => {
  it('health, server and model metadata', async () => {
    expect((await request(base, 'GET', '/v2/health/live')).status).toBe(200);
    expect((await request(base, 'GET', '/v2/health/ready')).status).toBe(200);
    expect((await request(base, 'GET', '/v2/models/lenet5/ready')).status).toBe(200);
    expect((await request(base, 'GET', '/v2')).json().name).toBe('simdcnn');
    const meta = (await request(base, 'GET', '/v2/models/lenet5')).json();
    expect(meta).toEqual({
      name: 'lenet5', versions: ['1'], platform: 'simdcnn',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 10] }],
    });
  });

  it('infer: the logits of models.lenet5() for the sample, flat or nested data, batch 2, id echoed', async () => {
    const r = await postJson(base, '/v2/models/lenet5/infer', { id: 'a1', ...good() });
    expect(r.status, r.text).toBe(200);
    const j = r.json();
    expect(j.model_name).toBe('lenet5');
    expect(j.id).toBe('a1');
    expect(j.outputs[0].name).toBe('output');
    expect(j.outputs[0].shape).toEqual([1, 10]);
    expect(j.outputs[0].datatype).toBe('FP32');
    expect(j.outputs[0].data.map(Math.fround)).toEqual(expected);
    const nested = [[Array.from({ length: 28 }, (_, y) => pixels.slice(y * 28, y * 28 + 28))]];
    const n = await postJson(base, '/v2/models/lenet5/versions/1/infer', good(nested));
    expect(n.json().outputs[0].data.map(Math.fround)).toEqual(expected);
    const two = await postJson(base, '/v2/models/lenet5/infer', good([...pixels, ...pixels], [2, 1, 28, 28]));
    expect(two.json().outputs[0].shape).toEqual([2, 10]);
    expect(two.json().outputs[0].data.map(Math.fround)).toEqual([...expected, ...expected]);
  });

  it("binary tensor data (Triton's extension): raw FP32 in and out, bit-identical; its hostile forms refused", async () => {
    const raw = Buffer.from(new Float32Array(pixels).buffer);
    const bin = (head: unknown, bytes: Buffer = raw, headers: Record<string, string | number> = {}) => {
      const h = Buffer.from(JSON.stringify(head));
      return request(base, 'POST', '/v2/models/lenet5/infer', {
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': h.length, ...headers }, body: Buffer.concat([h, bytes]),
      });
    };
    const input = { name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', parameters: { binary_data_size: 3136 } };
    const r = await bin({ inputs: [input], outputs: [{ name: 'output', parameters: { binary_data: true } }] });
    expect(r.status, r.text).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    const n = Number(r.headers['inference-header-content-length']);
    const head = JSON.parse(r.raw.subarray(0, n).toString('utf8'));
    expect(head.outputs[0]).toEqual({ name: 'output', shape: [1, 10], datatype: 'FP32', parameters: { binary_data_size: 40 } });
    expect(r.raw.length).toBe(n + 40);
    const logits = Array.from({ length: 10 }, (_, i) => r.raw.readFloatLE(n + 4 * i));
    expect(logits).toEqual(expected);
    // The request-level flag asks for the same.
    const q = await bin({ inputs: [input], parameters: { binary_data_output: true } });
    expect(q.raw.subarray(Number(q.headers['inference-header-content-length']))).toEqual(r.raw.subarray(n));
    // Binary in, JSON out.
    const j = await bin({ inputs: [input] });
    expect(j.json().outputs[0].data.map(Math.fround)).toEqual(expected);
    const nan = Buffer.from(raw);
    nan.writeFloatLE(NaN, 8);
    const cases: [string, Promise<Reply>, number, RegExp][] = [
      ['header longer than the body', bin({ inputs: [input] }, raw, { 'inference-header-content-length': 999999 }), 400, /Inference-Header-Content-Length is 999999, but the body is/],
      ['header not a count', bin({ inputs: [input] }, raw, { 'inference-header-content-length': '-5' }), 400, /must be a byte count, got "-5"/],
      ['size vs shape', bin({ inputs: [{ ...input, parameters: { binary_data_size: 3000 } }] }, raw.subarray(0, 3000)), 400, /binary_data_size must be 3136 \(784 FP32 values/],
      ['bytes vs size', bin({ inputs: [input] }, raw.subarray(0, 3132)), 400, /binary data after the JSON header is 3132 bytes; .* says 3136/],
      ['NaN in binary', bin({ inputs: [input] }, nan), 400, /binary value 2 is NaN; finite numbers only/],
      ['bytes but no binary input', bin(good(), raw), 400, /3136 bytes follow the JSON header, but no input has parameters.binary_data_size/],
      ['binary_data not a boolean', bin({ inputs: [input], outputs: [{ name: 'output', parameters: { binary_data: 'yes' } }] }), 400, /outputs\[0\].parameters.binary_data must be a boolean/],
      ['binary_data_size without the header', postJson(base, '/v2/models/lenet5/infer', { inputs: [input] }), 400, /needs the binary tensor data extension/],
      ['text/plain', bin({ inputs: [input] }, raw, { 'content-type': 'text/plain' }), 415, /application\/octet-stream or application\/json/],
    ];
    for (const [what, p, status, re] of cases) {
      const h = await p;
      expect(h.status, `${what}: ${h.text}`).toBe(status);
      expect(h.json().error, what).toMatch(re);
    }
  });

  it('hostile JSON requests: 4xx with a JSON reason', async () => {
    const deep = `{"inputs":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const cases: [string, unknown, number, RegExp][] = [
      ['bad JSON', '{"inputs": [', 400, /not valid JSON/],
      ['deeply nested', deep, 400, /nested more than 32 levels/],
      ['not an object', '[1,2]', 400, /must be a JSON object/],
      ['no inputs', {}, 400, /'inputs' must be a non-empty array/],
      ['two inputs', { inputs: [good().inputs[0], good().inputs[0]] }, 400, /one input/],
      ['wrong shape', good(pixels.slice(0, 27 * 27), [1, 1, 27, 27]), 400, /shape must be \[N, 1, 28, 28\]/],
      ['wrong rank', good(pixels, [1, 784]), 400, /must have 4 dims/],
      ['length vs shape', good(pixels.slice(0, 700)), 400, /has 700 elements; shape \[1, 1, 28, 28\] needs 784/],
      ['negative dim', good(pixels, [-1, 1, 28, 28]), 400, /shape\[0\] must be positive, got -1/],
      ['huge dim', good(pixels, [1e15, 1, 28, 28]), 400, /at most 64, got 1000000000000000/],
      ['fractional dim', good(pixels, [1, 1, 28.5, 28]), 400, /shape\[2\] must be an integer/],
      ['string dim', good(pixels, ['1', 1, 28, 28]), 400, /shape\[0\] must be an integer, got the string "1"/],
      ['INT64', good(pixels, [1, 1, 28, 28], { datatype: 'INT64' }), 400, /datatype must be 'FP32'.*"INT64"/],
      ['no datatype', { inputs: [{ name: 'input', shape: [1, 1, 28, 28], data: pixels }] }, 400, /datatype must be 'FP32'/],
      ['string in data', good(pixels.map((v, i) => (i === 5 ? 'x' : v))), 400, /data\[5\] must be a finite number, got the string "x"/],
      ['"NaN" in data', good(pixels.map((v, i) => (i === 0 ? 'NaN' : v))), 400, /data\[0\] must be a finite number, got the string "NaN"/],
      ['null in data', good(pixels.map((v, i) => (i === 3 ? null : v))), 400, /data\[3\] must be a finite number, got null/],
      ['1e999 in data', JSON.stringify(good()).replace(/"data":\[[^,]+,/, '"data":[1e999,'), 400, /data\[0\] must be a finite number/],
      ['data not an array', good('abc'), 400, /data must be an array of numbers/],
      ['nested lengths', good([[[[pixels]]]]), 400, /data\[0\]\[0\] has 1 elements; shape \[1, 1, 28, 28\] needs 28 there/],
      ['nested too deep', good([[Array.from({ length: 28 }, (_, y) => pixels.slice(y * 28, y * 28 + 28).map((v) => [v]))]]), 400,
        /data\[0\]\[0\]\[0\]\[0\] must be a finite number, got an array/],
      ['unknown input', { inputs: [{ ...good().inputs[0], name: 'image' }] }, 400, /unknown input "image"; the model's input is 'input'/],
      ['unknown output', { ...good(), outputs: [{ name: 'probs' }] }, 400, /unknown output "probs"/],
    ];
    for (const [what, body, status, re] of cases) {
      const r = await postJson(base, '/v2/models/lenet5/infer', body);
      expect(r.status, `${what}: ${r.text}`).toBe(status);
      expect(r.headers['content-type'], what).toMatch(/application\/json/);
      expect(r.json().error, what).toMatch(re);
    }
    const unknownModel = await postJson(base, '/v2/models/alexnet/infer', good());
    expect(unknownModel.status).toBe(404);
    expect(unknownModel.json().error).toMatch(/unknown model "alexnet"; this server serves 'lenet5'/);
    expect((await request(base, 'GET', '/v2/models/lenet5/versions/7')).status).toBe(404);
    expect((await request(base, 'GET', '/nope')).status).toBe(404);
    const get = await request(base, 'GET', '/v2/models/lenet5/infer');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });

  it('content types and body limits: 415, and 413 from Content-Length (before the body) or while streaming', async () => {
    const body = JSON.stringify(good());
    const text = await request(base, 'POST', '/v2/models/lenet5/infer', { headers: { 'content-type': 'text/plain' }, body });
    expect(text.status).toBe(415);
    expect(text.json().error).toMatch(/Content-Type must be application\/json, got "text\/plain"/);
    expect((await request(base, 'POST', '/v2/models/lenet5/infer', { body })).status).toBe(415);
    expect((await request(base, 'POST', '/v2/models/lenet5/classify', { headers: { 'content-type': 'application/json' }, body })).status).toBe(415);
    // Declares 10 MB and sends nothing: answered at once.
    const t0 = performance.now();
    const declared = await rawExchange('127.0.0.1', server.port,
      'POST /v2/models/lenet5/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n', 5000);
    expect(declared.text).toMatch(/^HTTP\/1.1 413/);
    expect(declared.text).toMatch(/"error":"the body is 10000000 bytes; the limit is 65536"/);
    expect(performance.now() - t0).toBeLessThan(250);
    // Expect: 100-continue with a length over the limit: 413 instead of 100, nothing else is read.
    const expect100 = await rawExchange('127.0.0.1', server.port,
      'POST /v2/models/lenet5/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n', 5000);
    expect(expect100.text).toMatch(/^HTTP\/1.1 413/);
    const fits = await rawExchange('127.0.0.1', server.port,
      `POST /v2/models/lenet5/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`, 300);
    expect(fits.text).toMatch(/^HTTP\/1.1 100 Continue/);
    // Chunked, no length: counted while it streams.
    const chunks = Array.from({ length: 40 }, () => Buffer.alloc(4096, 0x20));
    const chunked = await request(base, 'POST', '/v2/models/lenet5/infer', { headers: { 'content-type': 'application/json' }, chunks }).catch((e: Error) => e);
    expect(chunked instanceof Error ? chunked.message : chunked.status).toBe(413);
    if (!(chunked instanceof Error)) expect(chunked.json().error).toMatch(/passed the limit of 65536 bytes while streaming/);
  });

  it('images: PNG and JPEG classified (top-k); truncated images and decompression bombs refused before decoding', async () => {
    const img = png(56, 56, (x, y) => ((x - 28) ** 2 + (y - 28) ** 2 < 200 ? 255 : 0));
    const r = await request(base, 'POST', '/v2/models/lenet5/classify?top_k=3', { headers: { 'content-type': 'image/png' }, body: img });
    expect(r.status, r.text).toBe(200);
    const top = r.json().top as { index: number; probability: number }[];
    expect(top).toHaveLength(3);
    expect(top[0].probability).toBeGreaterThanOrEqual(top[1].probability);
    expect(r.json().width).toBe(56);
    const rgba = Buffer.alloc(32 * 32 * 4, 128);
    const jpg = jpeg.encode({ data: rgba, width: 32, height: 32 }, 90).data;
    const j = await request(base, 'POST', '/v2/models/lenet5/classify', { headers: { 'content-type': 'image/jpeg' }, body: jpg });
    expect(j.status, j.text).toBe(200);
    expect(j.json().top).toHaveLength(5);
    const hostile: [string, string, Buffer, number, RegExp][] = [
      ['truncated PNG', 'image/png', img.subarray(0, 60), 400, /could not be decoded/],
      ['PNG cut in its header', 'image/png', img.subarray(0, 20), 400, /truncated PNG/],
      ['PNG bomb 100000x100000', 'image/png', pngHeader(100000, 100000), 413, /100000x100000 pixels; at most 16384 per side/],
      ['PNG 5000x5000 (over the pixel limit)', 'image/png', pngHeader(5000, 5000), 413, /5000x5000/],
      ['truncated JPEG', 'image/jpeg', jpg.subarray(0, 30), 400, /JPEG/],
      ['JPEG labelled PNG', 'image/png', jpg, 400, /not a PNG/],
      ['garbage', 'image/jpeg', Buffer.from('hello world'), 400, /not a JPEG/],
      ['top_k out of range', 'image/png', img, 400, /top_k must be an integer from 1 to 10/],
    ];
    for (const [what, type, body, status, re] of hostile) {
      const q = what.startsWith('top_k') ? '?top_k=11' : '';
      const h = await request(base, 'POST', `/v2/models/lenet5/classify${q}`, { headers: { 'content-type': type }, body });
      expect(h.status, `${what}: ${h.text}`).toBe(status);
      expect(h.json().error, what).toMatch(re);
    }
    // A JPEG whose SOF declares 60000x60000.
    const bomb = Buffer.from(jpg);
    for (let i = 2; i < bomb.length - 9; i++) {
      if (bomb[i] === 0xff && bomb[i + 1] === 0xc0) { bomb.writeUInt16BE(60000, i + 5); bomb.writeUInt16BE(60000, i + 7); break; }
    }
    const jb = await request(base, 'POST', '/v2/models/lenet5/classify', { headers: { 'content-type': 'image/jpeg' }, body: bomb });
    expect(jb.status, jb.text).toBe(413);
  });

  it('an image of the model\'s size is the tensor the JSON endpoint would get: (p / 255 - 0.1307) / 0.3081', async () => {
    const v = (x: number, y: number) => (x * 7 + y * 13) % 256;
    const r = await request(base, 'POST', '/v2/models/lenet5/classify?top_k=10', { headers: { 'content-type': 'image/png' }, body: png(28, 28, v) });
    expect(r.status, r.text).toBe(200);
    const data = Array.from({ length: 784 }, (_, i) => Math.fround((v(i % 28, Math.floor(i / 28)) / 255 - 0.1307) / 0.3081));
    const logits = (await postJson(base, '/v2/models/lenet5/infer', good(data))).json().outputs[0].data as number[];
    const top = r.json().top as { index: number; logit: number }[];
    expect(top.map((t) => t.logit)).toEqual(top.map((t) => logits[t.index]));
    expect(top.map((t) => t.index)).toEqual(Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]));
  });

  it('slow clients: headers and body deadlines answer 408 and close the socket', async () => {
    const headers = await rawExchange('127.0.0.1', server.port, 'POST /v2/models/lenet5/infer HTTP/1.1\r\nHost: x\r\n', 5000);
    expect(headers.text).toMatch(/^HTTP\/1.1 408/);
    expect(headers.closed).toBe(true);
    expect(headers.elapsed).toBeLessThan(3000);
    const body = await rawExchange('127.0.0.1', server.port,
      'POST /v2/models/lenet5/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"inputs":', 5000);
    expect(body.closed).toBe(true);
    expect(body.text).toMatch(/^HTTP\/1.1 408/);
    expect(body.elapsed).toBeLessThan(3000);
  });

  it('malformed HTTP and oversized headers: 400 and 431 as JSON, from Node\'s parser', async () => {
    const garbage = await rawExchange('127.0.0.1', server.port, 'HELLO\r\n\r\n', 2000);
    expect(garbage.text).toMatch(/^HTTP\/1.1 400/);
    expect(garbage.text).toMatch(/\{"error":"malformed HTTP request \(HPE_/);
    const big = await rawExchange('127.0.0.1', server.port, `GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`, 2000);
    expect(big.text).toMatch(/^HTTP\/1.1 431/);
    expect(big.text).toMatch(/"error":"the request headers are too large"/);
  });

  it('after all of that it still serves, and /metrics counts it', async () => {
    const r = await postJson(base, '/v2/models/lenet5/infer', good());
    expect(r.status).toBe(200);
    expect(r.json().outputs[0].data.map(Math.fround)).toEqual(expected);
    const m = await request(base, 'GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toMatch(/text\/plain/);
    expect(m.text).toMatch(/simdcnn_requests_total\{route="infer",status="200"\} [1-9]/);
    expect(m.text).toMatch(/simdcnn_requests_total\{route="infer",status="400"\} [1-9]\d/);
    expect(m.text).toMatch(/simdcnn_requests_total\{route="infer",status="413"\} [1-9]/);
    expect(m.text).toMatch(/simdcnn_request_duration_seconds_bucket\{le="0.005",route="infer"\}/);
    expect(m.text).toMatch(/simdcnn_batch_size_count [1-9]/);
    expect(m.text).toMatch(/simdcnn_queue_depth 0/);
    expect(m.text).toMatch(/simdcnn_memory\{kind="native"\} \d+/);
    expect(m.text).toMatch(/process_resident_memory_bytes \d+/);
  });

  it('a full queue answers 503 with Retry-After, and a queue timeout 504', async () => {
    const s = await serve.startServer({ model: 'lenet5', port: 0, maxQueueSize: 1, maxQueueDelayMs: 400, inferTimeoutMs: 200 });
    try {
      const first = postJson(s.url, '/v2/models/lenet5/infer', good());
      for (let i = 0; i < 100 && s.batcher.queueDepth < 1; i++) await new Promise((r) => setTimeout(r, 5));
      expect(s.batcher.queueDepth).toBe(1);
      const second = await postJson(s.url, '/v2/models/lenet5/infer', good());
      expect(second.status).toBe(503);
      expect(second.headers['retry-after']).toBe('1');
      expect(second.json()).toMatchObject({ code: 'QUEUE_FULL' });
      const f = await first;
      expect(f.status).toBe(504);
      expect(f.json().error).toMatch(/no result within timeoutMs 200/);
    } finally {
      await s.close();
    }
  });
});

describe('the engine is pluggable', () => {
  it("engine 'ort': the same protocol on onnxruntime-node, the same logits within 1e-5 of the largest", async () => {
    const s = await serve.startServer({ model: 'lenet5', port: 0, engine: 'ort' });
    try {
      expect((await request(s.url, 'GET', '/v2/models/lenet5')).json().platform).toBe('onnxruntime');
      const r = await postJson(s.url, '/v2/models/lenet5/infer', good());
      expect(r.status, r.text).toBe(200);
      const got = r.json().outputs[0].data as number[];
      const scale = Math.max(...expected.map(Math.abs));
      expect(Math.max(...got.map((v, i) => Math.abs(v - expected[i]))) / scale).toBeLessThan(1e-5);
      expect((await postJson(s.url, '/v2/models/lenet5/infer', good(pixels.slice(1)))).status).toBe(400);
    } finally {
      await s.close();
    }
  });

  it('a port in use fails startServer with the reason (and releases the model)', async () => {
    await expect(serve.startServer({ model: 'lenet5', port: server.port })).rejects.toThrow(/cannot listen on 127.0.0.1:\d+: .*EADDRINUSE/);
  });
});

describe('simdcnn-serve as a process', () => {
  it('SIGTERM: the in-flight request completes, a new one gets 503, readiness 503, exit code 0', async () => {
    expect(fs.existsSync(BIN)).toBe(true);
    const { child, url, exit } = await spawnServer(['--model', 'lenet5', '--port', '0', '--max-delay-ms', '1500']);
    try {
      const inflight = postJson(url, '/v2/models/lenet5/infer', good());
      // SIGTERM once the request is waiting in the server's queue (its 1.5 s batch delay).
      for (let i = 0; i < 100 && !/^simdcnn_queue_depth 1$/m.test((await request(url, 'GET', '/metrics')).text); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      const refused = await postJson(url, '/v2/models/lenet5/infer', good());
      expect(refused.status).toBe(503);
      expect(refused.json().error).toMatch(/shutting down/);
      expect((await request(url, 'GET', '/v2/health/ready')).status).toBe(503);
      const done = await inflight;
      expect(done.status, done.text).toBe(200);
      expect(done.json().outputs[0].data.map(Math.fround)).toEqual(expected);
      const e = await exit;
      expect(e.code, e.out).toBe(0);
      expect(e.out).toMatch(/SIGTERM: finishing in-flight requests/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('two server processes serve the same model and answer identically (stateless scale-out)', async () => {
    const a = await spawnServer(['--model', 'lenet5', '--port', '0', '--seed', '0']);
    const b = await spawnServer(['--model', 'lenet5', '--port', '0', '--seed', '0', '--max-batch', '1']);
    try {
      expect(a.url).not.toBe(b.url);
      const xs = [sample, randn([1, 1, 28, 28], { seed: 12 })];
      for (const x of xs) {
        const body = good(Array.from(x.toArray()));
        const [ra, rb] = await Promise.all([postJson(a.url, '/v2/models/lenet5/infer', body), postJson(b.url, '/v2/models/lenet5/infer', body)]);
        expect(ra.status).toBe(200);
        expect(ra.json().outputs).toEqual(rb.json().outputs);
        expect(ra.json().outputs[0].data.map(Math.fround)).toEqual(Array.from(noGrad(() => ref.call(x)).toArray()));
      }
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      expect((await a.exit).code).toBe(0);
      expect((await b.exit).code).toBe(0);
    } finally {
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    }
  });

  it('bad flags exit 2 with the usage', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [BIN, '--model', 'lenet5', '--bogus'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option "--bogus"/);
    expect(r.stderr).toMatch(/usage: simdcnn-serve --model/);
    const m = spawnSync(process.execPath, [BIN, '--model', '/nonexistent.onnx', '--port', '0'], { encoding: 'utf8' });
    expect(m.status).toBe(1);
    expect(m.stderr).toMatch(/neither a built-in model/);
  });
});


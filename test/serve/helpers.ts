/** HTTP helpers for the server tests: raw node:http requests (no agent pooling) and child servers. */
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'simdcnn-serve.js');

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body's bytes (text is them decoded as UTF-8). */
  raw: Buffer;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One request on its own connection; body as given (a string, a Buffer, or chunks written one by one). */
export function request(base: string, method: string, p: string, opts: { headers?: Record<string, string | number>; body?: string | Buffer; chunks?: Buffer[] } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${p}`, { method, headers: opts.headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(parts);
        const text = raw.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, raw, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    // A server that answers early (413) and closes may make our later writes fail: the response
    // is what counts, so write errors after it are ignored.
    req.on('error', reject);
    if (opts.chunks) {
      let i = 0;
      const next = (): void => {
        if (i >= opts.chunks!.length || req.destroyed) { req.end(); return; }
        req.write(opts.chunks![i++], (e) => { if (!e) setImmediate(next); });
      };
      next();
    } else {
      req.end(opts.body);
    }
  });
}

export function postJson(base: string, p: string, body: unknown): Promise<Reply> {
  return request(base, 'POST', p, { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** Writes `data` on a raw socket and collects what comes back until the server closes it (or ms pass). */
export function rawExchange(host: string, port: number, data: string, ms: number): Promise<{ text: string; closed: boolean; elapsed: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect(port, host, () => s.write(data));
    let text = '';
    let closed = false;
    s.on('data', (c) => { text += c.toString('utf8'); });
    s.on('error', () => {});
    s.on('close', () => { closed = true; finish(); });
    const timer = setTimeout(() => finish(), ms);
    let done = false;
    function finish(): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed, elapsed: performance.now() - t0 });
    }
  });
}

/** simdcnn-serve as a child process; resolves with its URL once it listens. */
export function spawnServer(args: string[]): Promise<{ child: ChildProcess; url: string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((r) => child.on('exit', (code, signal) => r({ code, signal, out })));
    const onData = (c: Buffer): void => {
      out += c.toString('utf8');
      const m = /on (http:\/\/[0-9.]+:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1], exit });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => { out += c.toString('utf8'); });
    void exit.then((e) => reject(new Error(`simdcnn-serve exited before listening (code ${e.code}): ${e.out}`)));
    setTimeout(() => reject(new Error(`simdcnn-serve did not listen within 60 s: ${out}`)), 60_000).unref();
  });
}

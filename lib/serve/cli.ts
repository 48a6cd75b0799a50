/**
 * simdcnn-serve: the command line of the inference server (bin/simdcnn-serve.js runs main()).
 * SIGTERM (and SIGINT) drain: readiness turns 503, new requests get 503, in-flight ones finish,
 * then the process exits 0.
 */
import { setNumThreads } from '../backend/index';
import { startServer, type ServerOptions } from './server';

const USAGE = `usage: simdcnn-serve --model <file.onnx | lenet5 | resnet18> [options]

  --name NAME              model name in /v2/models/NAME (default: from --model)
  --host HOST              listen address (default 127.0.0.1)
  --port N                 listen port (default 8000; 0: any free port)
  --max-batch N            rows per batched forward (default 8; 1: no batching)
  --max-delay-ms N         longest wait for a batch to fill while idle (default 0)
  --max-queue N            requests waiting before 503 (default 256)
  --batch-sizes LIST|any   sizes batches are padded to (default: powers of two
                           up to --max-batch; any: no padding)
  --workers N              worker threads running forwards (default 0: in-process)
  --engine simdcnn|ort     compute engine (ort: onnxruntime-node, for comparisons)
  --threads N              intra-op threads (in-process default: the cores;
                           with --workers, per worker: cores / workers)
  --seed N                 seed of a built-in model's random weights (default 0)
  --input-shape C,H,W      sample shape when the ONNX file leaves dims free
  --body-limit-bytes N     largest request body (default 16777216)
  --timeout-ms N           longest wait for a result before 504 (default 10000)
  --headers-timeout-ms N   deadline for the request headers (default 10000)
  --request-timeout-ms N   deadline for the whole request (default 30000)
  --drain-timeout-ms N     longest drain on SIGTERM (default 30000)
`;

/** Options from argv; throws with the reason on a bad flag. */
export function parseArgs(argv: string[]): ServerOptions & { help?: boolean } {
  const o: ServerOptions & { help?: boolean } = { model: '' };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || v.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} needs a number, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--help': case '-h': o.help = true; break;
      case '--model': o.model = val() ?? ''; break;
      case '--name': o.name = val(); break;
      case '--host': o.host = val(); break;
      case '--port': o.port = num(flag, val()); break;
      case '--max-batch': o.maxBatchSize = num(flag, val()); break;
      case '--max-delay-ms': o.maxQueueDelayMs = num(flag, val()); break;
      case '--max-queue': o.maxQueueSize = num(flag, val()); break;
      case '--workers': o.workers = num(flag, val()); break;
      case '--threads': o.threads = num(flag, val()); break;
      case '--seed': o.seed = num(flag, val()); break;
      case '--body-limit-bytes': o.bodyLimitBytes = num(flag, val()); break;
      case '--timeout-ms': o.inferTimeoutMs = num(flag, val()); break;
      case '--headers-timeout-ms': o.headersTimeoutMs = num(flag, val()); break;
      case '--request-timeout-ms': o.requestTimeoutMs = num(flag, val()); break;
      case '--drain-timeout-ms': o.drainTimeoutMs = num(flag, val()); break;
      case '--engine': {
        const e = val();
        if (e !== 'simdcnn' && e !== 'ort') throw new Error(`--engine must be simdcnn or ort, got ${JSON.stringify(e)}`);
        o.engine = e;
        break;
      }
      case '--batch-sizes': {
        const v = val() ?? '';
        if (v === 'any') { o.batchSizes = 'any'; break; }
        const sizes = v.split(',').map(Number);
        if (!sizes.every((d) => Number.isInteger(d) && d > 0)) throw new Error(`--batch-sizes must be positive integers like 1,2,4,8 or any, got ${JSON.stringify(v)}`);
        o.batchSizes = sizes;
        break;
      }
      case '--input-shape': {
        const v = val() ?? '';
        const dims = v.split(',').map(Number);
        if (!dims.every((d) => Number.isInteger(d) && d > 0)) throw new Error(`--input-shape must be positive integers like 3,224,224, got ${JSON.stringify(v)}`);
        o.inputShape = dims;
        break;
      }
      default: throw new Error(`unknown option ${JSON.stringify(a)}`);
    }
  }
  if (!o.help && !o.model) throw new Error('--model is required');
  return o;
}

/** Runs the server until SIGTERM / SIGINT; exits 2 on bad flags, 1 when the server cannot start. */
export async function main(argv: string[]): Promise<void> {
  let opts: ReturnType<typeof parseArgs>;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`simdcnn-serve: ${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return;
  }
  const log = (line: string): void => { process.stdout.write(`simdcnn-serve: ${line}\n`); };
  try {
    if (opts.threads !== undefined && !opts.workers) setNumThreads(opts.threads);
    const server = await startServer({ ...opts, log });
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: finishing in-flight requests`);
      server.close().then(() => process.exit(0), (e: unknown) => {
        process.stderr.write(`simdcnn-serve: error while draining: ${(e as Error).message}\n`);
        process.exit(1);
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  } catch (e) {
    process.stderr.write(`simdcnn-serve: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

/**
 * onnxruntime-node timed on its own, in a process with no simdcnn work: the check behind a ratio
 * that looks better than expected (is the peer slowed by the interleaving, or just slow here?).
 * Same session options as bench:zoo, spinning on and off; batch 1, 1 thread.
 *   node dist/bench/ort-alone.js file.onnx [file.onnx ...] [--runs 25]
 */
import { ortModule, ortSession } from './engines/ort';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--runs');
  const runs = at >= 0 ? Number(args[at + 1]) : 25;
  const files = args.filter((a, i) => a !== '--runs' && i !== at + 1);
  if (!files.length || !(runs >= 3)) throw new Error('usage: node dist/bench/ort-alone.js file.onnx [...] [--runs N >= 3]');
  const o = ortModule();
  if (!o) throw new Error('onnxruntime-node is not installed');
  for (const f of files) {
    for (const spinning of [true, false]) {
      const s = await ortSession(f, 1, { spinning });
      const x = new o.Tensor('float32', new Float32Array(3 * 224 * 224).map(() => Math.random()), [1, 3, 224, 224]);
      const feeds = { [s.inputNames[0]]: x };
      for (let i = 0; i < 5; i++) await s.run(feeds);
      const t: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = process.hrtime.bigint();
        await s.run(feeds);
        t.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      t.sort((a, b) => a - b);
      console.log(`${f}  spinning ${spinning ? 'on ' : 'off'}  median ${t[runs >> 1].toFixed(2)} ms  min ${t[0].toFixed(2)} ms`);
      await s.release();
    }
  }
}

main().catch((e: unknown) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });

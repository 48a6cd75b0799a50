/**
 * What every lesson is: a name (its folder under the output directory), a title, and run(), which
 * prints the seed's numbers through `log`, writes its pictures into `out` and returns the numbers
 * it printed (test/lessons.test.ts compares them with /work/shared/SEEDS.md's worked examples).
 */
import * as path from 'path';
import { Tensor } from '../../lib/index';

export interface Lesson {
  name: string;
  title: string;
  run(out: string, log: (line: string) => void): Record<string, unknown>;
}

/** A matrix as rows of numbers: t's last two axes. */
export function grid(t: Tensor): number[][] {
  const [H, W] = t.shape.slice(-2);
  const d = Array.from(t.data.subarray(0, H * W));
  return Array.from({ length: H }, (_, i) => d.slice(i * W, (i + 1) * W));
}

/** Rows of a matrix, right-aligned, one line each. */
export function matrixLines(m: number[][]): string[] {
  const cells = m.map((r) => r.map((v) => String(Number(v.toFixed(4)))));
  const w = Math.max(...cells.flat().map((c) => c.length));
  return cells.map((r) => '  ' + r.map((c) => c.padStart(w)).join(' '));
}

export function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** Runs one lesson as a script: pictures into lessons-out/<name>/ (or the folder given as argv[2]). */
export function runAsScript(lesson: Lesson): void {
  const root = path.resolve(process.argv[2] ?? 'lessons-out');
  const out = path.join(root, lesson.name);
  console.log(`# ${lesson.title}`);
  lesson.run(out, (line) => console.log(line));
  console.log(`pictures: ${out}/`);
}

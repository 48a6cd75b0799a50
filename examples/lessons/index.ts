/**
 * `npm run lessons`: the seeds' concepts as runnable lessons, each printing the seed's numbers and
 * writing its pictures to lessons-out/<lesson>/ (or to the folder given first).
 *   npm run lessons                   # all
 *   npm run lessons -- out 06 08      # into out/, only the lessons whose names start with 06 or 08
 */
import * as path from 'path';
import { readdirSync, statSync } from 'fs';
import type { Lesson } from './lesson';
import { lesson as convolution } from './01-convolution';
import { lesson as padding } from './02-padding';
import { lesson as channels } from './03-channels';
import { lesson as dilation } from './04-dilation';
import { lesson as bottleneck } from './05-bottleneck';
import { lesson as pooling } from './06-pooling';
import { lesson as table } from './07-network-table';
import { lesson as lenet5 } from './08-lenet5';
import { lesson as architectures } from './09-architectures';
import { lesson as residual } from './10-residual';
import { lesson as training } from './11-training';

export const lessons: Lesson[] = [convolution, padding, channels, dilation, bottleneck, pooling, table, lenet5, architectures, residual, training];

function main(): void {
  const root = path.resolve(process.argv[2] ?? 'lessons-out');
  const only = process.argv.slice(3);
  const start = Date.now();
  for (const l of lessons.filter((x) => only.length === 0 || only.some((p) => x.name.startsWith(p)))) {
    const t0 = Date.now();
    const out = path.join(root, l.name);
    console.log(`\n# ${l.name}: ${l.title}`);
    l.run(out, (line) => console.log(line));
    const files = readdirSync(out).filter((f) => statSync(path.join(out, f)).isFile());
    console.log(`-> ${files.length} pictures in ${path.relative(process.cwd(), out) || out}/ (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  console.log(`\nlessons done in ${((Date.now() - start) / 1000).toFixed(1)} s`);
}

if (require.main === module) main();

// pixsearch bench [...args] — runs the benchmark suite of a pixsearch checkout (pnpm bench).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

/** The workspace root holding `benchmarks/`, when this CLI runs from a source checkout. */
export function findCheckout(start = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml')) && existsSync(join(dir, 'benchmarks', 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export async function run({ out, args, flags }: CommandContext): Promise<number> {
  const root = findCheckout();
  const extra = [...((args[0] as unknown[] | undefined) ?? []).map(String), ...((flags['--'] as unknown[] | undefined) ?? []).map(String)];
  if (!root) {
    out.info('pixsearch bench runs the benchmark suite, which lives in the source checkout:');
    out.info('  git clone <pixsearch repository> && cd pixsearch && ./scripts/setup.sh && pnpm bench');
    return EXIT.runtime;
  }
  out.info(out.ce.dim(`Running: pnpm bench${extra.length ? ` ${extra.join(' ')}` : ''}   (in ${root})`));
  return await new Promise<number>((resolve) => {
    const child = spawn('pnpm', ['bench', ...extra], { cwd: root, stdio: ['inherit', out.json ? 'pipe' : 'inherit', 'inherit'] });
    if (out.json) child.stdout?.pipe(process.stderr);
    child.on('error', (err) => {
      out.warn(`cannot run pnpm (${err.message}); run it yourself: cd ${root} && pnpm bench`);
      resolve(EXIT.runtime);
    });
    child.on('exit', (code, signal) => resolve(signal ? EXIT.interrupted : (code ?? EXIT.runtime)));
  });
}

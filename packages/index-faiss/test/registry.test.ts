import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('core registry', () => {
  it('createIndex/loadIndex from @pixsearch/core find both backends by package name (no explicit registration)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@pixsearch/source', '--import', 'tsx', path.join(here, 'fixtures/create-by-name.ts')], {
      cwd: path.join(here, '..'),
      timeout: 60_000,
    });
    const out = JSON.parse(stdout) as Record<string, { backend: string; search: { ids: number[]; scores: number[] }[] }>;
    for (const backend of ['faiss-flat', 'faiss-ivf']) {
      expect(out[backend]!.backend).toBe(backend);
      expect(out[backend]!.search[0]!.ids).toEqual([7, 2 ** 40]);
      expect(out[backend]!.search[0]!.scores[0]).toBeCloseTo(0.8, 5);
    }
  });
});

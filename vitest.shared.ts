// Shared vitest settings: workspace packages resolve to their TypeScript sources
// (the "@pixsearch/source" export condition), so tests need no build step.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';

const repoRoot = path.dirname(fileURLToPath(import.meta.url));

/**
 * Export conditions for every package's tests (one list: each package used to pick its own).
 * Vitest hands `resolve.conditions` to the test processes as `node --conditions`, so the list must
 * suit Node's own `require()` too: with `import` (or `module`) in it, a CommonJS dependency that
 * requires a dual package gets the package's ESM build — yazl's `require('buffer-crc32')` (server)
 * then gets a namespace object, and node-postgres's `require('pg-pool')` (index-pgvector) the ESM
 * pg-pool. Vite adds `import`/`require` per import kind by itself, so they are left out here.
 */
export const TEST_CONDITIONS: readonly string[] = ['@pixsearch/source', 'node', 'default'];

export function pixsearchVitest(test: NonNullable<ViteUserConfig['test']> = {}): ViteUserConfig {
  const conditions = [...TEST_CONDITIONS];
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['node'] } },
    test: {
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 120_000,
      pool: 'forks',
      // One JSON report per package for scripts/test-summary.mjs (artifacts/ is gitignored; CI keeps it).
      reporters: ['default', 'json'],
      outputFile: { json: path.join(repoRoot, 'artifacts/test-results', `${path.basename(process.cwd())}.json`) },
      ...test,
    },
  };
}

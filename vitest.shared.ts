// Shared vitest settings: workspace packages resolve to their TypeScript sources
// (the "@pixsearch/source" export condition), so tests need no build step.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';

const repoRoot = path.dirname(fileURLToPath(import.meta.url));

export function pixsearchVitest(test: NonNullable<ViteUserConfig['test']> = {}): ViteUserConfig {
  const conditions = ['@pixsearch/source', 'node', 'import', 'module', 'default'];
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

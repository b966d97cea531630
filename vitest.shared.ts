// Shared vitest settings: workspace packages resolve to their TypeScript sources
// (the "@pixsearch/source" export condition), so tests need no build step.
import type { ViteUserConfig } from 'vitest/config';

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
      ...test,
    },
  };
}

// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/results/**', '**/.cache/**', '**/coverage/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain JavaScript runs on Node, except the page's browser scripts (they declare their globals).
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ignores: ['packages/server/src/page/**'],
    languageOptions: { globals: globals.node },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    // Front ends and scripts talk to a terminal; the libraries never print.
    files: ['packages/cli/**', 'benchmarks/**', 'scripts/**', '**/scripts/**', 'packages/core/src/testing/**', '**/*.test.ts', '**/test/**', 'packages/server/src/page/**'],
    rules: { 'no-console': 'off' },
  },
);

import { defineConfig } from 'vitest/config';
import { pixsearchVitest } from '../../vitest.shared.js';

const config = pixsearchVitest();
// Vitest hands resolve.conditions to the test processes as `node --conditions`; with `import`
// among them, Node's own require() inside CommonJS dependencies picks ESM builds of dual
// packages (yazl's `require('buffer-crc32')` then gets a namespace object). Vite adds
// `import`/`require` per import kind by itself, so they are left out here.
const conditions = ['@pixsearch/source', 'node', 'default'];
config.resolve = { ...config.resolve, conditions };
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions } };

export default defineConfig(config);

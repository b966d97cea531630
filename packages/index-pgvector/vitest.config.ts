import { defineConfig } from 'vitest/config';
import { pixsearchVitest } from '../../vitest.shared.js';

const config = pixsearchVitest();
// node-postgres is CommonJS and requires pg-pool, whose exports map lists `import` first: with the
// shared `import`/`module` conditions forwarded to Node, require('pg-pool') would get its ESM build.
const conditions = ['@pixsearch/source', 'node', 'default'];
config.resolve = { ...config.resolve, conditions };
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions } };

export default defineConfig(config);

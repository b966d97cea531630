// pixsearch backends: the vector backends registered in this installation, with their parameters.
import { describeParams, listBackends } from '@pixsearch/core';
import type { CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export async function run({ out }: CommandContext): Promise<number> {
  const backends = await listBackends();
  out.result(
    backends.map((b) => ({
      name: b.name,
      description: b.description,
      library: b.library,
      persistence: b.persistence,
      ...(b.persistence === 'remote' ? { connectionEnv: b.connectionEnv } : {}),
      exact: b.capabilities.exact,
      remove: b.capabilities.remove,
      metrics: b.capabilities.metrics,
      searchParams: b.capabilities.searchParams,
      buildParams: b.buildParams,
    })),
  );
  for (const b of backends) {
    out.line(`${out.c.bold(b.name)}  ${b.description}`);
    const where = b.persistence === 'remote' ? `remote (connection from $${b.connectionEnv})` : 'files in the data directory';
    out.line(`  ${out.c.dim('library')} ${b.library}   ${out.c.dim('stored in')} ${where}   ${out.c.dim('search')} ${b.capabilities.exact ? 'exact' : 'approximate'}`);
    for (const [title, specs] of [['build (--param)', b.buildParams], ['search', b.capabilities.searchParams]] as const) {
      if (specs.length === 0) continue;
      out.line(`  ${out.c.dim(title)}`);
      for (const l of describeParams(specs)) out.line(`    ${l}`);
    }
    out.line();
  }
  return EXIT.ok;
}

// pixsearch duplicates [--threshold x] [--json | --csv | --paths]
import { duplicatesCsvRows, type DuplicateReport } from '@pixsearch/core/engine';
import { resolveSettings, numberFlag } from '../config.js';
import type { CommandContext } from '../context.js';
import { NothingIndexedError, dataDirExists, openEngine } from '../engine.js';
import { EXIT, UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { ProgressDisplay } from '../progress.js';
import { printPaths, shortDate } from '../results.js';
import { filterOptionsFrom } from '../search-options.js';
import { printable } from '../terminal-text.js';
import { formatBytes } from './status.js';

/** `--csv`: the rows the server's `download=csv` sends too (core's one quoting rule), one per line. */
function printCsv(out: Output, report: DuplicateReport): void {
  for (const row of duplicatesCsvRows(report)) out.line(row);
}

function printHuman(out: Output, report: DuplicateReport): void {
  const { c } = out;
  report.groups.forEach((g, i) => {
    const title = g.kind === 'exact' ? 'exact copies' : `near-duplicates (similarity ≥ ${g.minSimilarity.toFixed(3)})`;
    out.line(c.bold(`Group ${i + 1}: ${g.images.length} ${title}`));
    for (const m of g.images) {
      const keep = m.id === g.keeper ? c.green('keep') : c.dim('    ');
      const sim = m.id === g.keeper ? '      ' : m.similarity >= 1 ? c.yellow('same  ') : m.similarity.toFixed(3).padEnd(6);
      const facts = [`${m.width}×${m.height}`, formatBytes(m.bytes), m.format, shortDate(m)].filter((x) => x !== '').join(' · ');
      out.line(`  ${keep} ${sim} ${c.cyan(`#${m.id}`)}  ${out.fileLink(printable(m.absPath), m.absPath)}  ${c.dim(facts)}`);
    }
    out.line();
  });
}

export async function run({ out, flags }: CommandContext): Promise<number> {
  const { settings } = resolveSettings(flags);
  const threshold = numberFlag(flags, 'threshold', '--threshold', { min: 0, max: 1 });
  const neighbors = numberFlag(flags, 'neighbors', '--neighbors', { min: 1, max: 100, integer: true });
  const modes = ['json', 'csv', 'paths'].filter((k) => flags[k] === true);
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} exclude each other`);
  const filter = filterOptionsFrom(flags);
  if (!dataDirExists(settings.dataDir)) throw new NothingIndexedError(settings.dataDir);

  const engine = await openEngine(out, settings, { readOnly: true });
  const display = new ProgressDisplay(out);
  const started = performance.now();
  try {
    const report = await engine.duplicates({
      ...(threshold !== undefined ? { threshold } : {}),
      ...(neighbors !== undefined ? { neighbors } : {}),
      ...(Object.keys(filter).length > 0 ? { filter } : {}),
      onProgress: (done, total) => {
        const s = (performance.now() - started) / 1000;
        const rate = s > 0 ? done / s : 0;
        display.update({ label: 'Comparing', done, total, rate, etaSeconds: rate > 0 ? (total - done) / rate : undefined, noun: 'images' });
      },
    });
    display.finish();
    if (out.json) {
      out.result(report);
      return EXIT.ok;
    }
    if (flags.csv === true) {
      printCsv(out, report);
      return EXIT.ok;
    }
    if (flags.paths === true) {
      // The copies one might remove: every member that is not its group's keeper.
      printPaths(out, report.groups.flatMap((g) => g.images.filter((m) => m.id !== g.keeper)));
      return EXIT.ok;
    }
    printHuman(out, report);
    const exact = report.groups.filter((g) => g.kind === 'exact').length;
    out.info(
      out.ce.dim(
        report.groups.length === 0
          ? `No duplicates among ${report.images} images (threshold ${report.threshold}) in ${(report.durationMs / 1000).toFixed(1)} s.`
          : `${report.groups.length} group${report.groups.length === 1 ? '' : 's'} (${exact} exact, ${report.groups.length - exact} near) among ${report.images} images; ` +
              `${formatBytes(report.redundantBytes)} in the copies that are not keepers. Nothing was deleted or moved. ${(report.durationMs / 1000).toFixed(1)} s, threshold ${report.threshold}.`,
      ),
    );
    return EXIT.ok;
  } finally {
    display.finish();
    await engine.close();
  }
}

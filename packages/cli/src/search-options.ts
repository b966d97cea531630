import type { FilterOptions, SearchOptions } from '@pixsearch/core/engine';
import { UsageError } from './errors.js';
import { flagString, numberFlag, type Settings } from './config.js';

/** Every value of a repeatable option (`--camera a --camera b`), commas splitting too where `commas`. */
function listFlag(flags: Record<string, unknown>, key: string, flag: string, commas = false): string[] | undefined {
  const raw = flags[key];
  if (raw === undefined) return undefined;
  const values = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => {
    if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`option ${flag} needs a value`, `write ${flag} <value>`);
    return commas ? v.split(',') : [v];
  });
  const out = values.map((v) => v.trim()).filter((v) => v !== '');
  return out.length > 0 ? out : undefined;
}

/** Metadata filters from flags (`--path --from --to --camera --format --min-width --min-height --has-location --without-location`). */
export function filterOptionsFrom(flags: Record<string, unknown>): FilterOptions {
  const path = flagString(flags, 'path', '--path');
  const from = flagString(flags, 'from', '--from');
  const to = flagString(flags, 'to', '--to');
  const camera = listFlag(flags, 'camera', '--camera');
  const format = listFlag(flags, 'format', '--format', true);
  const minWidth = numberFlag(flags, 'minWidth', '--min-width', { min: 0, max: 1_000_000, integer: true });
  const minHeight = numberFlag(flags, 'minHeight', '--min-height', { min: 0, max: 1_000_000, integer: true });
  if (flags.hasLocation === true && flags.withoutLocation === true) throw new UsageError('--has-location and --without-location exclude each other');
  const hasLocation = flags.hasLocation === true ? true : flags.withoutLocation === true ? false : undefined;
  return {
    ...(path !== undefined ? { pathPrefix: path.replace(/^\.\//, '') } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(camera !== undefined ? { camera } : {}),
    ...(format !== undefined ? { format } : {}),
    ...(minWidth !== undefined ? { minWidth } : {}),
    ...(minHeight !== undefined ? { minHeight } : {}),
    ...(hasLocation !== undefined ? { hasLocation } : {}),
  };
}

const SORTS = ['relevance', 'date-desc', 'date-asc'] as const;

/** Builds engine search options from flags and settings (k and threshold may come from config/env). */
export function searchOptionsFrom(flags: Record<string, unknown>, settings: Settings): SearchOptions {
  const relative = numberFlag(flags, 'relative', '--relative', { min: 0, max: 2 });
  const offset = numberFlag(flags, 'offset', '--offset', { min: 0, max: 100_000, integer: true });
  const sort = flagString(flags, 'sort', '--sort');
  if (sort !== undefined && !(SORTS as readonly string[]).includes(sort)) {
    throw new UsageError(`--sort: expected ${SORTS.join(', ')}, got ${JSON.stringify(sort)}`);
  }
  return {
    ...(settings.k !== undefined ? { k: settings.k } : {}),
    ...(settings.threshold !== undefined ? { threshold: settings.threshold } : {}),
    ...(relative !== undefined ? { relativeThreshold: relative } : {}),
    ...(offset !== undefined ? { offset } : {}),
    ...(sort !== undefined ? { sort: sort as SearchOptions['sort'] & string } : {}),
    ...filterOptionsFrom(flags),
  };
}

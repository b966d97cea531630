import type { SearchOptions } from '@pixsearch/core/engine';
import { flagString, numberFlag, type Settings } from './config.js';

/** Builds engine search options from flags and settings (k and threshold may come from config/env). */
export function searchOptionsFrom(flags: Record<string, unknown>, settings: Settings): SearchOptions {
  const relative = numberFlag(flags, 'relative', '--relative', { min: 0, max: 2 });
  const offset = numberFlag(flags, 'offset', '--offset', { min: 0, max: 100_000, integer: true });
  const path = flagString(flags, 'path', '--path');
  return {
    ...(settings.k !== undefined ? { k: settings.k } : {}),
    ...(settings.threshold !== undefined ? { threshold: settings.threshold } : {}),
    ...(relative !== undefined ? { relativeThreshold: relative } : {}),
    ...(offset !== undefined ? { offset } : {}),
    ...(path !== undefined ? { pathPrefix: path.replace(/^\.\//, '') } : {}),
  };
}

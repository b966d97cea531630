// Metadata filters and sort of the page: their URL form (shared by the page's address and the API
// query string), the chips that show the active ones, and the filter panel.
/* global URLSearchParams */
import { el } from './dom.js';

/** Filter parameters as the API names them (`/api/search`, `/api/browse`, `/api/facets`). */
export const FILTER_KEYS = ['path', 'from', 'to', 'camera', 'format', 'minWidth', 'minHeight', 'hasLocation'];

/** Active filters (and sort) read from a query string; unknown or empty values are dropped. */
export function filtersFromParams(params) {
  const f = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k);
    if (v !== null && v !== '') f[k] = v;
  }
  const sort = params.get('sort');
  if (sort === 'date-desc' || sort === 'date-asc' || sort === 'relevance') f.sort = sort;
  return f;
}

/** Adds the active filters (and sort unless `withSort` is false) to `params`. */
export function addFilterParams(params, filters, withSort = true) {
  for (const k of FILTER_KEYS) if (filters[k] !== undefined && filters[k] !== '') params.set(k, String(filters[k]));
  if (withSort && filters.sort && filters.sort !== 'relevance') params.set('sort', filters.sort);
  return params;
}

/** True when any filter (not counting sort) is set. */
export function hasFilters(filters) {
  return FILTER_KEYS.some((k) => filters[k] !== undefined && filters[k] !== '');
}

const FORMAT_NAMES = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', gif: 'GIF', tiff: 'TIFF', avif: 'AVIF', heic: 'HEIC', svg: 'SVG' };

/** Short labels of the active filters: [{ key, label }]. */
export function filterLabels(filters) {
  const out = [];
  if (filters.path) out.push({ key: 'path', label: `in ${filters.path.replace(/\/$/, '') || 'the top folder'}` });
  if (filters.from && filters.to) out.push({ key: 'from', also: 'to', label: `${filters.from} – ${filters.to}` });
  else if (filters.from) out.push({ key: 'from', label: `from ${filters.from}` });
  else if (filters.to) out.push({ key: 'to', label: `until ${filters.to}` });
  if (filters.camera) out.push({ key: 'camera', label: filters.camera });
  if (filters.format) out.push({ key: 'format', label: filters.format.split(',').map((f) => FORMAT_NAMES[f] || f.toUpperCase()).join(', ') });
  if (filters.minWidth || filters.minHeight) {
    out.push({ key: 'minWidth', also: 'minHeight', label: `≥ ${filters.minWidth || 0} × ${filters.minHeight || 0} px` });
  }
  if (filters.hasLocation === 'true') out.push({ key: 'hasLocation', label: 'with location' });
  if (filters.hasLocation === 'false') out.push({ key: 'hasLocation', label: 'without location' });
  return out;
}

/** Removable chips for the active filters; `onRemove(keys)` is called with the keys to clear. */
export function filterChips(filters, onRemove) {
  return filterLabels(filters).map(({ key, also, label }) => {
    const chip = el('span', 'filter-chip');
    chip.append(el('span', '', label));
    const x = el('button', 'chip-clear', '×');
    x.type = 'button';
    x.setAttribute('aria-label', `Remove filter: ${label}`);
    x.addEventListener('click', () => onRemove(also ? [key, also] : [key]));
    chip.append(x);
    return chip;
  });
}

/** A copy of `filters` with `keys` removed. */
export function without(filters, keys) {
  const f = { ...filters };
  for (const k of keys) delete f[k];
  return f;
}

/** Query string of the filters alone (for links such as the viewer's folder link). */
export function filterQuery(filters) {
  const s = addFilterParams(new URLSearchParams(), filters).toString();
  return s ? `?${s}` : '';
}

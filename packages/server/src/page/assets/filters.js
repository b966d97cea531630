// Metadata filters and sort of the page: their URL form (shared by the page's address and the API
// query string), the chips that show the active ones, and the filter panel.
/* global URLSearchParams */
import { $, api, el } from './dom.js';

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

/**
 * The filter panel (date range, folder picker, camera, format, minimum size, location), filled
 * from `/api/facets`. `host`: { get(): filters, set(filters) } — every change applies at once.
 */
export function createFilterPanel(host) {
  const ui = {
    toggle: $('filters-toggle'),
    panel: $('filter-panel'),
  };
  const form = ui.panel;
  let facets = null;

  function field(name) {
    return form.elements.namedItem(name);
  }

  /** Options of a select: [value, label]; keeps the current value even when the facets lack it. */
  function fill(select, first, options, current) {
    const opts = [el('option', '', first)];
    opts[0].value = '';
    let found = current === undefined || current === '';
    for (const [value, label] of options) {
      const o = el('option', '', label);
      o.value = value;
      if (value === current) found = true;
      opts.push(o);
    }
    if (!found) {
      const o = el('option', '', current);
      o.value = current;
      opts.push(o);
    }
    select.replaceChildren(...opts);
    select.value = current ?? '';
  }

  /** Shows `filters` in the form. */
  function show(filters) {
    const f = filters || host.get();
    const folders = facets ? facets.folders.map((x) => [`${x.path.replace(/\/$/, '')}/`, `${x.path} (${x.count.toLocaleString('en-US')})`]) : [];
    fill(field('path'), 'All folders', folders, f.path);
    fill(field('camera'), 'Any camera', facets ? facets.cameras.map((x) => [x.value, `${x.value} (${x.count.toLocaleString('en-US')})`]) : [], f.camera);
    fill(field('format'), 'Any format', facets ? facets.formats.map((x) => [x.value, `${FORMAT_NAMES[x.value] || x.value.toUpperCase()} (${x.count.toLocaleString('en-US')})`]) : [], f.format);
    for (const k of ['from', 'to', 'minWidth', 'minHeight', 'hasLocation']) field(k).value = f[k] ?? '';
    if (facets && facets.dateRange) {
      for (const k of ['from', 'to']) {
        field(k).min = facets.dateRange.from;
        field(k).max = facets.dateRange.to;
      }
    }
  }

  async function loadFacets() {
    try {
      facets = await api('/api/facets');
    } catch {
      facets = null;
    }
    show();
  }

  function read() {
    const f = { ...host.get() };
    for (const k of FILTER_KEYS) {
      const input = field(k);
      if (!input) continue;
      const v = String(input.value || '').trim();
      if (v === '' || ((k === 'minWidth' || k === 'minHeight') && !(Number(v) > 0))) delete f[k];
      else f[k] = v;
    }
    return f;
  }

  function setOpen(open) {
    ui.panel.hidden = !open;
    ui.toggle.setAttribute('aria-expanded', String(open));
    if (open) void loadFacets();
  }

  ui.toggle.addEventListener('click', () => setOpen(ui.panel.hidden));
  form.addEventListener('change', () => host.set(read()));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    host.set(read());
  });
  form.addEventListener('reset', (e) => {
    e.preventDefault();
    const f = { ...host.get() };
    for (const k of FILTER_KEYS) delete f[k];
    host.set(f);
  });

  return {
    /** Shows the active filters in the form (after they changed elsewhere: chips, links, history). */
    show,
    /** Opens or closes the panel. */
    setOpen,
    /** Forgets the facets (after a sync); the next opening loads them again. */
    invalidate() {
      facets = null;
      if (!ui.panel.hidden) void loadFacets();
    },
  };
}

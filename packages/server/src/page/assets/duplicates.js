// The duplicates view: groups of exact copies (same content) and near-duplicates (resized,
// re-encoded, slightly cropped), each with size, dimensions and date to pick a keeper; the
// suggested keeper comes first. Read only: pixsearch never deletes or moves a file. The list can
// be exported (CSV or JSON) from `/api/duplicates`.
/* global URLSearchParams */
import { absPath, api, el, fileName, fmtBytes, fmtInt, folderOf } from './dom.js';
import { addFilterParams } from './filters.js';
import { fmtTaken } from './viewer.js';

const DEFAULT_THRESHOLD = 0.95;

/** `host`: { container, onFolder(folder) }. */
export function createDuplicatesView(host) {
  const box = host.container;
  let threshold = DEFAULT_THRESHOLD;
  let gen = 0;
  let lastFilters = {};

  function hide() {
    gen++;
    box.hidden = true;
    box.replaceChildren();
  }

  /** Lists the groups under `filters`; `at` (0…1) sets the similarity threshold. */
  async function show(filters, at) {
    if (typeof at === 'number' && at > 0 && at <= 1) threshold = at;
    const mine = ++gen;
    lastFilters = filters;
    box.hidden = false;
    const params = addFilterParams(new URLSearchParams({ threshold: threshold.toFixed(2) }), filters, false);
    box.replaceChildren(header(params, null), el('p', 'muted dupes-wait', 'Comparing every image with its nearest neighbours…'));
    let report;
    try {
      report = await api(`/api/duplicates?${params}`);
    } catch (err) {
      if (mine !== gen) return;
      const msg = el('div', 'empty error');
      msg.setAttribute('role', 'alert');
      msg.append(el('h2', '', 'Duplicates could not be listed'), el('p', '', err.message));
      box.replaceChildren(header(params, null), msg);
      return;
    }
    if (mine !== gen) return;
    const parts = [header(params, report)];
    if (report.groups.length === 0) {
      const none = el('div', 'empty');
      none.append(el('h2', '', 'No duplicates found'), el('p', '', `No two of the ${fmtInt(report.images)} images are copies or at least ${Math.round(threshold * 100)}% similar.`));
      parts.push(none);
    }
    for (const g of report.groups) parts.push(groupView(g));
    box.replaceChildren(...parts);
    // Export and threshold stay reachable; move the focus to the first group for keyboard users.
    const first = box.querySelector('.dupe-group h3');
    if (first) first.setAttribute('tabindex', '-1');
  }

  function header(params, report) {
    const head = el('div', 'dupes-head');
    const summary = el('p', 'dupes-summary');
    if (report) {
      const exact = report.groups.filter((g) => g.kind === 'exact').length;
      summary.append(
        el('strong', '', `${fmtInt(report.groups.length)} ${report.groups.length === 1 ? 'group' : 'groups'}`),
        ` (${fmtInt(exact)} of exact copies, ${fmtInt(report.groups.length - exact)} of near-duplicates) among ${fmtInt(report.images)} images`,
        report.redundantBytes > 0 ? ` · ${fmtBytes(report.redundantBytes)} beyond the keepers` : '',
      );
    }
    const note = el('p', 'muted dupes-note', 'The suggested keeper (most pixels, then largest file, then earliest date) comes first. pixsearch never deletes or moves files.');
    const controls = el('div', 'dupes-controls');
    const label = el('label', 'minscore');
    const range = el('input');
    range.type = 'range';
    range.min = '0.80';
    range.max = '1';
    range.step = '0.01';
    range.value = threshold.toFixed(2);
    range.setAttribute('aria-label', 'Similarity threshold');
    const out = el('output', '', `${Math.round(threshold * 100)}%`);
    range.addEventListener('input', () => {
      out.textContent = `${Math.round(Number(range.value) * 100)}%`;
    });
    range.addEventListener('change', () => {
      threshold = Number(range.value);
      void show(lastFilters);
    });
    label.append(el('span', '', 'Similar from'), range, out);
    const csv = el('a', 'btn', 'Export CSV');
    const json = el('a', 'btn', 'Export JSON');
    for (const [a, kind] of [
      [csv, 'csv'],
      [json, 'json'],
    ]) {
      const p = new URLSearchParams(params);
      p.set('download', kind);
      a.href = `/api/duplicates?${p}`;
      a.setAttribute('download', '');
    }
    controls.append(label, csv, json);
    head.append(summary, controls, note);
    return head;
  }

  function groupView(g) {
    const sec = el('section', 'dupe-group');
    const title =
      g.kind === 'exact' ? `Exact copies · ${g.images.length} files` : `Near-duplicates · ${g.images.length} images · at least ${(g.minSimilarity * 100).toFixed(1)}% similar`;
    sec.append(el('h3', '', title));
    const row = el('div', 'dupe-row');
    for (const m of g.images) row.append(card(m, m.id === g.keeper, g));
    sec.append(row);
    return sec;
  }

  function card(m, keeper, g) {
    const c = el('article', keeper ? 'dupe-card keeper' : 'dupe-card');
    const a = el('a', 'dupe-thumb');
    a.href = m.imageUrl || `/api/images/${m.id}`;
    a.target = '_blank';
    a.rel = 'noopener';
    a.setAttribute('aria-label', `Open ${fileName(m.path)} in a new tab`);
    const img = el('img');
    img.loading = 'lazy';
    img.alt = m.path;
    img.src = `/api/images/${m.id}/thumbnail?size=256`;
    a.append(img);
    if (keeper) a.append(el('span', 'dupe-badge', 'Keeper'));
    else if (g.kind === 'near') a.append(el('span', 'dupe-badge sim', `${(m.similarity * 100).toFixed(1)}%`));
    else a.append(el('span', 'dupe-badge sim', 'same bytes'));
    const dl = el('dl');
    const rows = [
      ['Size', fmtBytes(m.bytes)],
      ['Pixels', m.width && m.height ? `${m.width} × ${m.height}` : '—'],
      ['Taken', m.takenAt ? fmtTaken(m.takenAt) + (m.dateSource === 'mtime' ? ' (file)' : '') : '—'],
      ['Format', String(m.format || '').toUpperCase()],
    ];
    for (const [k, v] of rows) dl.append(el('dt', '', k), el('dd', '', v));
    const path = el('p', 'dupe-path', absPath(m));
    const folder = folderOf(m.path);
    const link = el('a', 'dupe-folder', folder ? `${folder}/` : 'top folder');
    link.href = `/?path=${encodeURIComponent(folder ? `${folder}/` : '')}`;
    link.addEventListener('click', (e) => {
      e.preventDefault();
      host.onFolder(folder ? `${folder}/` : '');
    });
    c.append(a, dl, path, link);
    return c;
  }

  return { show, hide };
}

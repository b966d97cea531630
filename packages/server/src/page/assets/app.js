// pixsearch search page: plain ES modules, no dependencies, no build step.
// Talks only to this server's JSON API; builds every node with textContent (never innerHTML).
/* global document, window, URL, URLSearchParams, FormData, EventSource, IntersectionObserver, history, location, setTimeout, clearTimeout, requestAnimationFrame, getComputedStyle, performance, AbortController, ResizeObserver */
import { $, api, el, fileName, fmtInt, toast } from './dom.js';
import { addFilterParams, createFilterPanel, filterChips, filtersFromParams, hasFilters, without } from './filters.js';
import { createDuplicatesView } from './duplicates.js';
import { createLibraryPanel } from './library.js';
import { createSelection } from './selection.js';
import { createViewer, fmtTaken } from './viewer.js';

const PAGE_SIZE = 48;
/** Tiles that fit a large first screen. */
const FIRST_SCREEN = 24;
/** Pause after a keystroke before searching, ms (search as you type). */
const TYPING_DEBOUNCE_MS = 60;
const PHASES = { scan: 'Scanning folders', hash: 'Checking changes', 'load-model': 'Loading the model', embed: 'Embedding images', index: 'Updating the index', done: 'Finishing' };

const ui = {
  form: $('search-form'),
  q: $('q'),
  pick: $('pick'),
  file: $('file'),
  statusText: $('status-text'),
  sync: $('sync'),
  syncbar: $('syncbar'),
  syncFill: $('syncbar-fill'),
  syncText: $('syncbar-text'),
  toolbar: $('toolbar'),
  chip: $('query-chip'),
  count: $('result-count'),
  minScore: $('min-score'),
  minScoreValue: $('min-score-value'),
  message: $('message'),
  grid: $('grid'),
  sentinel: $('sentinel'),
  more: $('more'),
  filterChips: $('filter-chips'),
  sort: $('sort'),
  minScoreLabel: document.querySelector('.minscore'),
  endMarker: $('end-marker'),
  dupesOpen: $('dupes-open'),
  drop: $('drop'),
  toast: $('toast'),
};

const maxUpload = Number(document.body.dataset.maxUpload || 20 * 1024 * 1024);
const welcome = ui.message.firstElementChild ? ui.message.firstElementChild.cloneNode(true) : null;

/**
 * @typedef {{ id: number, root: string, path: string, score: number, width: number, height: number, format: string, thumbnailUrl: string, imageUrl: string }} Result
 * @typedef {{ kind: 'text', q: string } | { kind: 'image', file: File, preview: string } | { kind: 'similar', id: number, label: string }} Mode
 */
const state = {
  /** @type {Mode | null} */ mode: null,
  /** @type {Result[]} */ results: [],
  /** @type {number | null} */ nextOffset: null,
  /** @type {number | undefined} */ total: undefined,
  loading: false,
  gen: 0,
  /** Aborts the request of the search on screen when a newer one starts. @type {AbortController | null} */ abort: null,
  /** True while the grid still shows the previous search's results (search as you type, live refresh). */ stale: false,
  /** The search was started by typing: a 400 (an unfinished query) keeps the previous results, silently. */ typed: false,
  minScore: 0.1,
  /** Metadata filters and sort (see filters.js), as in the page's address. */ filters: {},
  indexed: Number(document.body.dataset.indexed || 0),
};

function fmtScore(s) {
  return s.toFixed(3);
}

// ------------------------------------------------------------------ URL state

function modeFromUrl() {
  const p = new URLSearchParams(location.search);
  state.filters = filtersFromParams(p);
  const min = Number(p.get('min'));
  if (p.has('min') && Number.isFinite(min)) setMinScore(min);
  if (p.get('view') === 'duplicates') return { kind: 'duplicates', threshold: Number(p.get('threshold')) || undefined };
  const like = p.get('like');
  if (like && /^\d+(,\d+)*$/.test(like)) {
    const ids = [...new Set(like.split(',').map(Number))];
    return { kind: 'like', ids, label: p.get('label') || `${ids.length} images` };
  }
  const similar = p.get('similar');
  if (similar && /^\d+$/.test(similar)) return { kind: 'similar', id: Number(similar), label: p.get('label') || `image #${similar}` };
  const q = (p.get('q') || '').trim();
  if (q) return { kind: 'text', q };
  return null;
}

function urlForMode(mode) {
  const p = new URLSearchParams();
  if (mode && mode.kind === 'text') p.set('q', mode.q);
  if (mode && mode.kind === 'similar') {
    p.set('similar', String(mode.id));
    p.set('label', mode.label);
  }
  if (mode && mode.kind === 'duplicates') {
    p.set('view', 'duplicates');
    if (mode.threshold) p.set('threshold', String(mode.threshold));
  }
  if (mode && mode.kind === 'like') {
    p.set('like', mode.ids.join(','));
    p.set('label', mode.label);
  }
  if (mode && state.minScore !== 0.1) p.set('min', state.minScore.toFixed(2));
  addFilterParams(p, state.filters);
  const s = p.toString();
  return s ? `/?${s}` : '/';
}

function setMinScore(v) {
  const clamped = Math.max(Number(ui.minScore.min), Math.min(Number(ui.minScore.max), v));
  state.minScore = Math.round(clamped * 100) / 100;
  ui.minScore.value = String(state.minScore);
  ui.minScoreValue.textContent = state.minScore.toFixed(2);
}

// ------------------------------------------------------------------ searching

/**
 * Starts a new search; `history`: 'push' | 'replace' | 'none'. With `keep` (search as you type,
 * live refresh after a sync) the grid keeps the previous results until the new ones paint, and
 * with `typed` an unreadable, still-being-typed query keeps them without an error.
 */
function run(mode, historyMode = 'push', { keep = false, typed = false } = {}) {
  // No query: the timeline (every photo matching the filters, newest first), once there are photos.
  if (!mode && state.indexed > 0) mode = { kind: 'browse' };
  if (state.mode && state.mode.kind === 'image' && (!mode || mode.kind !== 'image' || mode.preview !== state.mode.preview)) {
    URL.revokeObjectURL(state.mode.preview);
  }
  if (state.abort) state.abort.abort();
  state.abort = null;
  const keepGrid = keep && !!mode && (state.results.length > 0 || state.stale);
  state.mode = mode;
  state.results = [];
  state.nextOffset = null;
  state.total = undefined;
  state.loading = false;
  state.typed = typed;
  state.gen++;
  selection.clear();
  state.stale = keepGrid;
  ui.grid.classList.toggle('pending', keepGrid);
  if (!keepGrid) ui.grid.replaceChildren();
  if (historyMode !== 'none') {
    const url = urlForMode(mode && mode.kind !== 'image' ? mode : null);
    if (url !== location.pathname + location.search) history[historyMode === 'push' ? 'pushState' : 'replaceState'](null, '', url);
  }
  // The box shows the text query; image and "more like" searches are described by the chip.
  if (mode && mode.kind === 'text') {
    if (ui.q.value.trim() !== mode.q) ui.q.value = mode.q;
  } else {
    ui.q.value = '';
  }
  renderToolbar();
  ui.endMarker.hidden = true;
  dupes.hide();
  if (!mode) {
    showWelcome();
    return;
  }
  if (mode.kind === 'duplicates') {
    ui.message.replaceChildren();
    ui.more.hidden = true;
    void dupes.show(state.filters, mode.threshold);
    return;
  }
  if (!keepGrid) showSkeleton();
  void loadPage();
}

/** Drops the previous search's tiles (kept on screen while the new search ran). */
function clearStale() {
  if (!state.stale) return;
  state.stale = false;
  ui.grid.classList.remove('pending');
  ui.grid.replaceChildren();
}

function request(mode, offset, signal) {
  if (mode.kind === 'browse') {
    const b = addFilterParams(new URLSearchParams({ k: String(PAGE_SIZE), offset: String(offset) }), state.filters, false);
    b.set('sort', state.filters.sort === 'date-asc' ? 'date-asc' : 'date-desc');
    return api(`/api/browse?${b}`, { signal });
  }
  const p = new URLSearchParams({ k: String(PAGE_SIZE), offset: String(offset), threshold: state.minScore.toFixed(2) });
  addFilterParams(p, state.filters);
  if (mode.kind === 'text') {
    p.set('q', mode.q);
    return api(`/api/search?${p}`, { signal });
  }
  if (mode.kind === 'similar') return api(`/api/images/${mode.id}/similar?${p}`, { signal });
  if (mode.kind === 'like') {
    p.set('ids', mode.ids.join(','));
    return api(`/api/search/similar?${p}`, { signal });
  }
  const body = new FormData();
  body.append('image', mode.file, mode.file.name || 'image');
  return api(`/api/search/image?${p}`, { method: 'POST', body, signal });
}

async function loadPage() {
  const mode = state.mode;
  if (!mode || state.loading) return;
  const gen = state.gen;
  const offset = state.results.length === 0 ? 0 : state.nextOffset;
  if (offset === null) return;
  state.loading = true;
  ui.more.disabled = true;
  const abort = new AbortController();
  state.abort = abort;
  try {
    const res = await request(mode, offset, abort.signal);
    if (gen !== state.gen) return;
    const start = state.results.length;
    state.results.push(...res.results);
    state.nextOffset = res.nextOffset;
    state.total = res.total;
    if (start === 0) {
      clearStale();
      // The timeline sits under the welcome (unless filters narrowed it: then it is a result list).
      if (mode.kind === 'browse' && !hasFilters(state.filters) && res.results.length > 0) showWelcome();
      else ui.message.replaceChildren();
    }
    appendTiles(res.results, start);
    if (state.results.length === 0) showNoResults();
    if (start === 0) markPainted(mode);
  } catch (err) {
    if (gen !== state.gen || abort.signal.aborted) return;
    if (state.stale && state.typed && err.status === 400) {
      // An unfinished query while typing ("beach" + …): keep what is on screen, no error flash.
      state.loading = false;
      return;
    }
    clearStale();
    // Without the browse API (an older server) the page still greets with the examples.
    if (mode.kind === 'browse' && state.results.length === 0 && err.status === 404) showWelcome();
    else if (state.results.length === 0) showError(err);
    else toast(err.message, true);
  } finally {
    if (state.abort === abort) state.abort = null;
    if (gen === state.gen) {
      state.loading = false;
      ui.more.disabled = false;
      ui.more.hidden = state.nextOffset === null;
      renderToolbar();
      renderEnd();
      viewer.refresh();
      // Fill tall screens: keep loading while the sentinel is in view.
      requestAnimationFrame(() => {
        if (state.nextOffset !== null && sentinelVisible()) void loadPage();
      });
    }
  }
}

/**
 * Records when the first page of a search has painted (the frame after the DOM changed):
 * `window.pixsearchPainted` = { q, at } (performance.now()), read by the end-to-end suite to
 * measure keystroke → results painted.
 */
function markPainted(mode) {
  const q = mode.kind === 'text' ? mode.q : null;
  requestAnimationFrame(() =>
    setTimeout(() => {
      window.pixsearchPainted = { q, at: performance.now() };
      document.body.dataset.painted = q === null ? '' : q;
    }, 0),
  );
}

function sentinelVisible() {
  const r = ui.sentinel.getBoundingClientRect();
  return r.top < window.innerHeight + 600;
}

// ------------------------------------------------------------------ rendering

function thumbSize(ratio) {
  const rowH = parseFloat(getComputedStyle(ui.grid).getPropertyValue('--row-h')) || 200;
  const need = Math.max(rowH * ratio, rowH) * (window.devicePixelRatio || 1);
  return need <= 128 ? 128 : need <= 256 ? 256 : 512;
}

function thumbUrl(r, size) {
  return `/api/images/${r.id}/thumbnail?size=${size}`;
}

function appendTiles(results, start) {
  const frag = document.createDocumentFragment();
  results.forEach((r, j) => {
    const i = start + j;
    const ratio = r.width > 0 && r.height > 0 ? Math.min(3, Math.max(0.5, r.width / r.height)) : 1;
    const a = el('a', 'tile');
    a.href = r.imageUrl;
    a.dataset.i = String(i);
    a.setAttribute('role', 'listitem');
    // Ranked results show their score; the timeline shows the date taken.
    const ranked = typeof r.score === 'number';
    const badge = ranked ? fmtScore(r.score) : r.takenAt ? fmtTaken(r.takenAt).replace(/, \d\d:\d\d$/, '') : '';
    a.setAttribute('aria-label', ranked ? `${r.path}, score ${badge}` : badge ? `${r.path}, ${badge}` : r.path);
    a.style.setProperty('--r', String(ratio));
    const img = el('img');
    // The first screen loads at once (and comes from the browser's image cache when the previous
    // search showed the same image); the rest as they scroll into view.
    img.loading = i < FIRST_SCREEN ? 'eager' : 'lazy';
    if (i < FIRST_SCREEN) img.fetchPriority = 'high';
    img.decoding = i < FIRST_SCREEN ? 'sync' : 'async';
    img.alt = r.path;
    img.src = thumbUrl(r, thumbSize(ratio));
    img.addEventListener('load', () => a.classList.add('loaded'), { once: true });
    img.addEventListener('error', () => a.classList.add('broken'), { once: true });
    const check = el('span', 'tile-check');
    check.title = 'Select';
    a.append(img, check, ...(badge ? [el('span', ranked ? 'score' : 'score date', badge)] : []), el('span', 'name', fileName(r.path)));
    selection.decorate(a, r);
    frag.append(a);
  });
  ui.grid.append(frag);
}

function renderToolbar() {
  const mode = state.mode;
  ui.toolbar.hidden = !mode;
  ui.chip.replaceChildren();
  ui.filterChips.replaceChildren(...filterChips(state.filters, (keys) => setFilters(without(state.filters, keys))));
  const ranked = !!mode && mode.kind !== 'browse' && mode.kind !== 'duplicates';
  ui.minScoreLabel.hidden = !ranked;
  ui.sort.closest('label').hidden = !!mode && mode.kind === 'duplicates';
  ui.sort.options[0].hidden = !ranked;
  ui.sort.value = ranked ? state.filters.sort || 'relevance' : state.filters.sort === 'date-asc' ? 'date-asc' : 'date-desc';
  ui.dupesOpen.setAttribute('aria-pressed', String(!!mode && mode.kind === 'duplicates'));
  if (!mode) return;
  if (mode.kind === 'browse' || mode.kind === 'duplicates') {
    ui.chip.append(el('strong', '', mode.kind === 'browse' ? (hasFilters(state.filters) ? 'Photos' : 'All photos') : 'Duplicates'));
    if (mode.kind === 'duplicates') ui.chip.append(closeChip());
    ui.count.textContent = mode.kind === 'browse' && state.total !== undefined ? `${fmtInt(state.total)} ${state.total === 1 ? 'photo' : 'photos'}` : '';
    return;
  }
  if (mode.kind === 'text') {
    ui.chip.append(el('span', 'chip-label', 'Results for'), el('strong', '', `“${mode.q}”`));
  } else {
    const ids = mode.kind === 'like' ? mode.ids.slice(0, 3) : mode.kind === 'similar' ? [mode.id] : [];
    const thumbs = ids.map((id) => {
      const img = el('img', 'chip-thumb');
      img.alt = '';
      img.src = `/api/images/${id}/thumbnail?size=128`;
      return img;
    });
    if (mode.kind === 'image') {
      const img = el('img', 'chip-thumb');
      img.alt = '';
      img.src = mode.preview;
      thumbs.push(img);
    }
    ui.chip.append(...thumbs, el('span', 'chip-label', mode.kind === 'image' ? 'Similar to' : 'More like'), el('strong', '', mode.kind === 'image' ? mode.file.name || 'your image' : mode.label));
  }
  ui.chip.append(closeChip());
  const n = state.results.length;
  if (state.stale) return; // the previous results (and their count) stay until the new ones paint
  // The exact total when the server knows it (it does, but for huge libraries with a low threshold).
  const total = state.total;
  ui.count.textContent =
    state.loading && n === 0 ? 'Searching…' : n === 0 ? '' : total !== undefined ? `${fmtInt(total)} ${total === 1 ? 'result' : 'results'}` : `${fmtInt(n)}+ results`;
}

/** The × of the query chip: back to the timeline. */
function closeChip() {
  const clear = el('button', 'chip-clear', '×');
  clear.type = 'button';
  clear.setAttribute('aria-label', 'Clear search');
  clear.addEventListener('click', () => {
    run(null);
    ui.q.focus();
  });
  return clear;
}

/** "End of results" under the last page, with the count. */
function renderEnd() {
  const n = state.results.length;
  const mode = state.mode;
  ui.endMarker.hidden = !mode || n === 0 || state.nextOffset !== null || state.stale;
  if (ui.endMarker.hidden) return;
  ui.endMarker.textContent = mode.kind === 'browse' ? `The end · ${fmtInt(n)} ${n === 1 ? 'photo' : 'photos'}` : `End of results · ${fmtInt(n)} ${n === 1 ? 'image' : 'images'}`;
}

function showWelcome() {
  ui.more.hidden = true;
  ui.message.replaceChildren(...(welcome ? [welcome.cloneNode(true)] : []));
  bindExamples();
}

function showSkeleton() {
  ui.more.hidden = true;
  const sk = el('div', 'skeleton');
  sk.setAttribute('aria-label', 'Searching');
  for (let i = 0; i < 12; i++) {
    const b = el('div', 'sk-tile');
    b.style.setProperty('--r', String([1.5, 0.75, 1, 1.33, 1, 0.66][i % 6]));
    sk.append(b);
  }
  ui.message.replaceChildren(sk);
}

function showNoResults() {
  const box = el('div', 'empty');
  const mode = state.mode;
  if (state.indexed === 0) {
    // Nothing is indexed: weaker matches would not help; say how to fill the library.
    box.append(el('h2', '', 'The library is empty'), el('p', '', 'There is nothing to search yet. Add photos to an indexed folder and press Sync.'));
    const b = el('button', 'btn btn-primary', 'Show the library');
    b.type = 'button';
    b.addEventListener('click', () => void library.open());
    box.append(b);
    ui.message.replaceChildren(box);
    return;
  }
  box.append(el('h2', '', mode && mode.kind === 'text' ? `No images matched “${mode.q}”` : 'No similar images found'));
  box.append(el('p', '', `Nothing scored above the minimum score (${state.minScore.toFixed(2)}). Try other words, or show weaker matches.`));
  if (state.minScore > Number(ui.minScore.min)) {
    const actions = el('div', 'actions');
    const weaker = el('button', 'btn btn-primary', 'Show weaker matches');
    weaker.type = 'button';
    weaker.addEventListener('click', () => {
      setMinScore(state.minScore - 0.1);
      run(state.mode, 'replace');
    });
    const all = el('button', 'btn', 'Show all, ranked');
    all.type = 'button';
    all.addEventListener('click', () => {
      setMinScore(Number(ui.minScore.min));
      run(state.mode, 'replace');
    });
    actions.append(weaker, all);
    box.append(actions);
  }
  ui.message.replaceChildren(box);
}

function showError(err) {
  const box = el('div', 'empty error');
  box.setAttribute('role', 'alert');
  const title =
    err.status === 400 ? 'That query could not be read' : err.status === 401 ? 'Access token needed' : err.status === 415 || err.status === 422 ? 'That image could not be used' : err.status === 503 ? 'The server is busy' : 'Something went wrong';
  // Messages name the field first ("q: …"); the page shows just the reason.
  box.append(el('h2', '', title), el('p', '', err.message.replace(/^[a-z]+: /, '')));
  if (err.status === 400 && state.mode && state.mode.kind === 'text') {
    box.append(el('p', 'hint', 'Combine terms with quotes and + or -, e.g. "beach" + "sunset" - "people", or 2:"sunset" to weigh a term.'));
  }
  const b = el('button', 'btn', 'Try again');
  b.type = 'button';
  b.addEventListener('click', () => run(state.mode, 'none'));
  box.append(b);
  ui.message.replaceChildren(box);
}

function bindExamples() {
  for (const b of ui.message.querySelectorAll('[data-q]')) {
    b.addEventListener('click', () => run({ kind: 'text', q: b.dataset.q }));
  }
}

// ------------------------------------------------------------------ viewer

const viewer = createViewer({
  result: (i) => state.results[i],
  count: () => state.results.length,
  hasMore: () => state.nextOffset !== null,
  loadMore: () => loadPage(),
  onSimilar: (r) => {
    run({ kind: 'similar', id: r.id, label: fileName(r.path) });
    window.scrollTo({ top: 0 });
  },
  onFolder: (folder) => setFilters({ ...state.filters, path: folder ? `${folder}/` : '' }),
  // Focus goes back to the tile shown last (synchronously, so keys typed right after land there).
  onClose: (i) => {
    const tile = ui.grid.querySelector(`[data-i="${i}"]`);
    if (tile) {
      tile.focus();
      tile.scrollIntoView({ block: 'nearest' });
    }
  },
});

/** Applies new filters to what is on screen. */
function setFilters(filters) {
  state.filters = { ...filters };
  if (!filters.path) delete state.filters.path;
  filterPanel.show(state.filters);
  run(state.mode, 'push');
  window.scrollTo({ top: 0 });
}

const filterPanel = createFilterPanel({ get: () => state.filters, set: (f) => setFilters(f) });

ui.sort.addEventListener('change', () => setFilters({ ...state.filters, sort: ui.sort.value }));

const dupes = createDuplicatesView({
  container: $('dupes'),
  // A folder of a duplicate: the photos of that folder.
  onFolder: (folder) => {
    state.mode = null;
    setFilters({ ...state.filters, path: folder });
  },
});
ui.dupesOpen.addEventListener('click', () => run(state.mode && state.mode.kind === 'duplicates' ? null : { kind: 'duplicates' }));

const library = createLibraryPanel({ onFolder: (folder) => setFilters({ ...state.filters, path: folder }) });

// ------------------------------------------------------------------ grid interaction

const selection = createSelection({
  result: (i) => state.results[i],
  count: () => state.results.length,
  onMoreLike: (list) => {
    const label = list.length === 1 ? fileName(list[0].path) : `${list.length} images`;
    run({ kind: 'like', ids: list.map((r) => r.id), label });
  },
});

ui.grid.addEventListener('click', (e) => {
  const tile = e.target.closest('.tile');
  if (!tile || e.button !== 0) return;
  if (selection.onClick(e, tile)) return;
  e.preventDefault();
  viewer.open(Number(tile.dataset.i));
});

ui.grid.addEventListener('keydown', (e) => {
  const tile = e.target.closest('.tile');
  if (!tile) return;
  const i = Number(tile.dataset.i);
  let target = -1;
  if (e.key === 'ArrowRight') target = i + 1;
  else if (e.key === 'ArrowLeft') target = i - 1;
  else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') target = verticalNeighbour(tile, e.key === 'ArrowDown' ? 1 : -1);
  else if (e.key === 'Home') target = 0;
  else if (e.key === 'End') target = state.results.length - 1;
  if (selection.onKey(e, tile, target)) return;
  if (e.key === 'Enter') {
    // Enter opens the viewer even while selecting (a click would toggle).
    e.preventDefault();
    viewer.open(i);
    return;
  }
  if (target < 0) return;
  e.preventDefault();
  const next = ui.grid.querySelector(`[data-i="${target}"]`);
  if (next) {
    next.focus();
    next.scrollIntoView({ block: 'nearest' });
  }
});

/** Index of the tile in the next/previous row whose centre is closest horizontally. */
function verticalNeighbour(tile, dir) {
  const tiles = [...ui.grid.children];
  const r = tile.getBoundingClientRect();
  const cx = r.left + r.width / 2;
  let best = -1;
  let bestRowTop = dir > 0 ? Infinity : -Infinity;
  let bestDx = Infinity;
  for (const t of tiles) {
    const tr = t.getBoundingClientRect();
    const sameRow = Math.abs(tr.top - r.top) < 4;
    if (sameRow || (dir > 0 ? tr.top < r.top : tr.top > r.top)) continue;
    const closerRow = dir > 0 ? tr.top < bestRowTop - 4 : tr.top > bestRowTop + 4;
    const dx = Math.abs(tr.left + tr.width / 2 - cx);
    if (closerRow || (Math.abs(tr.top - bestRowTop) < 4 && dx < bestDx)) {
      bestRowTop = tr.top;
      bestDx = dx;
      best = Number(t.dataset.i);
    }
  }
  return best;
}

const observer = new IntersectionObserver(
  (entries) => {
    if (entries.some((e) => e.isIntersecting) && state.nextOffset !== null) void loadPage();
  },
  { rootMargin: '600px 0px' },
);
observer.observe(ui.sentinel);
ui.more.addEventListener('click', () => void loadPage());

// ------------------------------------------------------------------ search box

let typingTimer = 0;
ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  clearTimeout(typingTimer);
  const q = ui.q.value.trim();
  if (!q) return;
  run({ kind: 'text', q }, state.mode && state.mode.kind === 'text' && state.mode.q === q ? 'none' : 'push');
});
/** True while a quoted term is still open (an odd number of quotes): the query is not finished. */
function unfinishedQuote(q) {
  return (q.match(/"/g) || []).length % 2 === 1;
}

ui.q.addEventListener('input', () => {
  clearTimeout(typingTimer);
  const q = ui.q.value.trim();
  if (q.length < 2 || unfinishedQuote(q)) return;
  typingTimer = setTimeout(() => {
    if (state.mode && state.mode.kind === 'text' && state.mode.q === q) return;
    run({ kind: 'text', q }, state.mode && state.mode.kind === 'text' ? 'replace' : 'push', { keep: true, typed: true });
  }, TYPING_DEBOUNCE_MS);
});
ui.q.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !ui.q.value) ui.q.blur();
  if (e.key === 'ArrowDown' && state.results.length > 0) {
    e.preventDefault();
    const first = ui.grid.querySelector('.tile');
    if (first) first.focus();
  }
});

let minTimer = 0;
ui.minScore.addEventListener('input', () => {
  setMinScore(Number(ui.minScore.value));
  clearTimeout(minTimer);
  minTimer = setTimeout(() => {
    if (state.mode) run(state.mode, 'replace', { keep: true });
  }, 150);
});

// ------------------------------------------------------------------ search by image

function searchByFile(file) {
  if (!file) return;
  if (file.size > maxUpload) {
    toast(`That file is larger than ${Math.round(maxUpload / 1024 / 1024)} MB.`, true);
    return;
  }
  if (file.type && !file.type.startsWith('image/')) {
    toast('That is not an image.', true);
    return;
  }
  run({ kind: 'image', file, preview: URL.createObjectURL(file) });
}

ui.pick.addEventListener('click', () => ui.file.click());
ui.file.addEventListener('change', () => {
  const f = ui.file.files && ui.file.files[0];
  ui.file.value = '';
  searchByFile(f);
});

let dragDepth = 0;
const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes('Files');
window.addEventListener('dragenter', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth++;
  ui.drop.hidden = false;
});
window.addEventListener('dragover', (e) => {
  if (hasFiles(e)) e.preventDefault();
});
window.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) ui.drop.hidden = true;
});
window.addEventListener('drop', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth = 0;
  ui.drop.hidden = true;
  searchByFile(e.dataTransfer.files[0]);
});
window.addEventListener('paste', (e) => {
  const f = e.clipboardData && [...e.clipboardData.files].find((x) => x.type.startsWith('image/'));
  if (f) {
    e.preventDefault();
    searchByFile(f);
  }
});

// ------------------------------------------------------------------ keyboard

document.addEventListener('keydown', (e) => {
  const t = e.target;
  const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
  if (e.key === 'Escape' && !typing && !viewer.isOpen && selection.active) {
    e.preventDefault();
    selection.clear();
    return;
  }
  if (e.key === '/' && !typing && !viewer.isOpen) {
    e.preventDefault();
    ui.q.focus();
    ui.q.select();
  }
});

window.addEventListener('popstate', () => run(modeFromUrl(), 'none'));

// ------------------------------------------------------------------ status and sync

function setCount(n) {
  state.indexed = n;
  ui.statusText.textContent = `${n.toLocaleString('en-US')} ${n === 1 ? 'image' : 'images'}`;
}

async function refreshStatus() {
  try {
    const s = await api('/api/status');
    setCount(s.images.indexed);
    ui.statusText.title = `model ${s.model} · ${s.backend} · last sync ${s.lastSync ? new Date(s.lastSync).toLocaleString() : 'never'}`;
    showSync(s.sync.running, s.sync.progress);
  } catch {
    // The page keeps working with what it rendered.
  }
}

function fmtEta(sec) {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return '';
  const s = Math.round(sec);
  return s >= 60 ? ` · ${Math.floor(s / 60)} min ${s % 60} s left` : ` · ${s} s left`;
}

function showSync(running, p) {
  ui.sync.disabled = running;
  ui.sync.classList.toggle('spinning', running);
  ui.syncbar.hidden = !running;
  if (!running) return;
  const label = p ? PHASES[p.phase] || p.phase : 'Starting sync';
  let pct = null;
  if (p && p.total) pct = Math.min(100, (100 * p.done) / p.total);
  ui.syncFill.style.width = pct === null ? '' : `${pct}%`;
  ui.syncbar.classList.toggle('indeterminate', pct === null);
  if (pct === null) ui.syncbar.removeAttribute('aria-valuenow');
  else ui.syncbar.setAttribute('aria-valuenow', String(Math.round(pct)));
  const counts = p ? (p.total ? ` ${p.done.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')}` : ` ${p.done.toLocaleString('en-US')}`) : '';
  const rate = p && p.rate > 0 ? ` · ${p.rate.toFixed(p.rate < 10 ? 1 : 0)}/s` : '';
  const decoded = p && p.phase === 'embed' && p.decoded > p.done ? ` · ${p.decoded.toLocaleString('en-US')} decoded` : '';
  if (p && p.phase === 'embed' && p.total && p.done >= p.total && p.embedded === 0) {
    ui.syncText.textContent = 'Nothing to embed: every file was skipped or is already indexed';
    return;
  }
  ui.syncText.textContent = `${label}${counts}${decoded}${rate}${p ? fmtEta(p.etaSeconds) : ''}`;
}

function summaryText(s) {
  const parts = [];
  for (const [k, label] of [
    ['added', 'added'],
    ['updated', 'updated'],
    ['moved', 'moved'],
    ['removed', 'removed'],
    ['skipped', 'skipped'],
  ]) {
    if (s[k]) parts.push(`${s[k]} ${label}`);
  }
  return parts.length ? `Sync done: ${parts.join(', ')}.` : 'Sync done: everything was up to date.';
}

/** Reruns the search on screen after the library changed, keeping its tiles until the new ones paint. */
function refreshResults() {
  if (!state.mode || viewer.isOpen) return;
  run(state.mode, 'none', { keep: true });
}

function connectEvents() {
  const es = new EventSource('/api/sync/events');
  es.addEventListener('state', (e) => {
    const s = JSON.parse(e.data);
    showSync(s.running, s.progress);
  });
  es.addEventListener('progress', (e) => {
    const p = JSON.parse(e.data);
    showSync(p.phase !== 'done', p);
    if (p.phase === 'done') void refreshStatus();
  });
  es.addEventListener('done', (e) => {
    const summary = JSON.parse(e.data);
    showSync(false, null);
    const changed = summary.added + summary.updated + summary.moved + summary.removed > 0;
    // Syncs of the folder watcher and the server's startup sync report only when they changed something.
    if (changed || (summary.trigger !== 'watch' && summary.trigger !== 'startup')) toast(summaryText(summary));
    void refreshStatus();
    if (changed) refreshResults();
  });
  es.addEventListener('error', (e) => {
    // Server-sent `error` events carry data; connection errors do not (EventSource retries).
    if (e.data) {
      showSync(false, null);
      toast(`Sync failed: ${JSON.parse(e.data).message}`, true);
    }
  });
}

ui.sync.addEventListener('click', async () => {
  try {
    await api('/api/sync', { method: 'POST' });
    showSync(true, null);
  } catch (err) {
    toast(err.code === 'SYNC_RUNNING' ? 'A sync is already running.' : err.message, err.code !== 'SYNC_RUNNING');
  }
});

// ------------------------------------------------------------------ start

bindExamples();
setMinScore(state.minScore);
run(modeFromUrl(), 'none');
filterPanel.show(state.filters);
// The sticky toolbar sits right under the top bar, whose height depends on the screen's width.
const topbar = document.querySelector('.topbar');
new ResizeObserver(() => document.documentElement.style.setProperty('--sticky-top', `${topbar.offsetHeight}px`)).observe(topbar);
connectEvents();
void refreshStatus();
document.documentElement.classList.add('js');

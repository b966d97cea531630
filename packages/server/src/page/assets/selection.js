// Multi-select in the grid: the check on a tile, Ctrl/⌘-click and Shift-click (a range), Space,
// Shift+arrows, Ctrl/⌘+A and Esc; once something is selected a plain click toggles too. The
// selection bar acts on the selected images: copy their paths, download them as one zip, search
// "more like these".
/* global document, window */
import { $, absPath, copyText, fmtBytes, toast } from './dom.js';

/** As the server bounds a zip (`/api/zip`). */
const MAX_ZIP_FILES = 1000;
const MAX_ZIP_BYTES = 4 * 1024 ** 3;
/** As the server bounds "more like these" (`/api/search/similar`). */
const MAX_LIKE_IDS = 100;

/**
 * `host`: { result(i), count(), onMoreLike(results) }. The grid's tiles carry `data-i` (their
 * index in the results); the selection keeps ids, so it survives more pages being loaded.
 */
export function createSelection(host) {
  const ui = {
    grid: $('grid'),
    bar: $('selbar'),
    count: $('sel-count'),
    copy: $('sel-copy'),
    zip: $('sel-zip'),
    like: $('sel-like'),
    clear: $('sel-clear'),
    all: $('sel-all'),
  };
  /** Selected results by id, in selection order. */
  const selected = new Map();
  let anchor = -1;

  function tileOf(i) {
    return ui.grid.querySelector(`.tile[data-i="${i}"]`);
  }

  /** Shows a tile's selected state (class, check, accessible name). */
  function decorate(tile, r) {
    const on = selected.has(r.id);
    tile.classList.toggle('selected', on);
    const base = tile.dataset.label || tile.getAttribute('aria-label') || '';
    tile.dataset.label = base;
    tile.setAttribute('aria-label', on ? `${base}, selected` : base);
  }

  function set(i, on) {
    const r = host.result(i);
    if (!r) return;
    if (on) selected.set(r.id, r);
    else selected.delete(r.id);
    const tile = tileOf(i);
    if (tile) decorate(tile, r);
  }

  function toggle(i) {
    const r = host.result(i);
    if (!r) return;
    set(i, !selected.has(r.id));
    anchor = i;
    render();
  }

  /** Selects every tile from the anchor to `i` (inclusive), keeping the rest. */
  function range(i) {
    const from = anchor < 0 ? i : anchor;
    const [a, b] = from <= i ? [from, i] : [i, from];
    for (let k = a; k <= b; k++) set(k, true);
    render();
  }

  function selectAll() {
    for (let k = 0; k < host.count(); k++) set(k, true);
    render();
  }

  function clear() {
    if (selected.size === 0) return;
    selected.clear();
    anchor = -1;
    for (const tile of ui.grid.querySelectorAll('.tile.selected')) {
      tile.classList.remove('selected');
      if (tile.dataset.label) tile.setAttribute('aria-label', tile.dataset.label);
    }
    render();
  }

  function render() {
    const n = selected.size;
    ui.bar.hidden = n === 0;
    document.body.classList.toggle('selecting', n > 0);
    if (n === 0) return;
    const bytes = [...selected.values()].reduce((s, r) => s + (r.bytes || 0), 0);
    ui.count.textContent = `${n.toLocaleString('en-US')} selected${bytes > 0 ? ` · ${fmtBytes(bytes)}` : ''}`;
    ui.like.disabled = n > MAX_LIKE_IDS;
    ui.like.title = n > MAX_LIKE_IDS ? `At most ${MAX_LIKE_IDS} images` : 'Search by the mean of the selected images';
    ui.zip.title = `Download the ${n === 1 ? 'original' : `${n} originals`} as one zip`;
  }

  // ---------------------------------------------------------------- grid events

  /** Handles a click on a tile; returns true when it was a selection gesture. */
  function onClick(e, tile) {
    const i = Number(tile.dataset.i);
    if (e.shiftKey) {
      e.preventDefault();
      range(i);
      return true;
    }
    if (e.ctrlKey || e.metaKey || e.target.closest('.tile-check') || selected.size > 0) {
      e.preventDefault();
      toggle(i);
      return true;
    }
    return false;
  }

  /**
   * Handles a key on a tile; `target` is the index arrow keys move to (-1 for none). Returns
   * true when the key was a selection gesture (the caller then only moves the focus).
   */
  function onKey(e, tile, target) {
    const i = Number(tile.dataset.i);
    if (e.key === ' ' || e.key === 'Spacebar') {
      e.preventDefault();
      toggle(i);
      return true;
    }
    if ((e.ctrlKey || e.metaKey) && (e.key === 'a' || e.key === 'A')) {
      e.preventDefault();
      selectAll();
      return true;
    }
    if (e.key === 'Escape' && selected.size > 0) {
      e.preventDefault();
      clear();
      return true;
    }
    if (e.shiftKey && target >= 0) {
      if (anchor < 0) {
        anchor = i;
        set(i, true);
      }
      range(target);
      return false; // the focus still moves
    }
    return false;
  }

  // ---------------------------------------------------------------- actions

  ui.clear.addEventListener('click', clear);
  ui.all.addEventListener('click', selectAll);

  ui.copy.addEventListener('click', async () => {
    const paths = [...selected.values()].map(absPath);
    const ok = await copyText(paths.join('\n'));
    toast(ok ? `${paths.length === 1 ? 'Path' : `${paths.length} paths`} copied to the clipboard.` : 'The browser refused to copy.', !ok);
  });

  ui.zip.addEventListener('click', () => {
    const list = [...selected.values()];
    if (list.length > MAX_ZIP_FILES) {
      toast(`A zip holds at most ${MAX_ZIP_FILES} images; ${list.length} are selected.`, true);
      return;
    }
    const bytes = list.reduce((s, r) => s + (r.bytes || 0), 0);
    if (bytes > MAX_ZIP_BYTES) {
      toast(`A zip holds at most ${fmtBytes(MAX_ZIP_BYTES)}; the selection is ${fmtBytes(bytes)}.`, true);
      return;
    }
    // A plain link: the browser's download manager streams the archive to disk.
    const a = document.createElement('a');
    a.href = `/api/zip?ids=${list.map((r) => r.id).join(',')}`;
    a.download = '';
    document.body.append(a);
    a.click();
    a.remove();
    toast(`Downloading ${list.length === 1 ? '1 image' : `${list.length} images`} as a zip…`);
  });

  ui.like.addEventListener('click', () => {
    const list = [...selected.values()];
    if (list.length === 0 || list.length > MAX_LIKE_IDS) return;
    host.onMoreLike(list);
    clear();
    window.scrollTo({ top: 0 });
  });

  return {
    onClick,
    onKey,
    decorate,
    clear,
    /** True while something is selected. */
    get active() {
      return selected.size > 0;
    },
    /** Selected results, in selection order. */
    get results() {
      return [...selected.values()];
    },
  };
}

// The image viewer: a modal dialog with zoom and pan (wheel, pinch, drag, double-click/tap,
// keys), prev/next (buttons, arrow keys, swipe), an info panel (date, camera, lens, size, full
// path, folder link), download, copy path and "more like this".
// Images show through the display rendition (/display, WebP ≤ 2048 px: any format, TIFF, HEIC and
// RAW included); browser-native originals replace it when they are small enough to show 1:1, or
// when the zoom goes past the rendition's pixels.
/* global window, setTimeout, clearTimeout, Image */
import { $, api, absPath, copyText, el, fileName, fmtBytes, folderOf } from './dom.js';

/** Formats a browser shows by itself (the original can replace the rendition). */
const NATIVE = new Set(['jpeg', 'jpg', 'png', 'webp', 'gif', 'avif']);
const DISPLAY_SIZE = 2048;
const SWIPE_PX = 50;
const DOUBLE_TAP_MS = 300;

/** "14 Jul 2023, 10:23" from an ISO date-time, keeping the camera's wall-clock time. */
export function fmtTaken(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(iso || '');
  if (!m) return '';
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const date = `${Number(m[3])} ${months[Number(m[2]) - 1]} ${m[1]}`;
  return m[4] ? `${date}, ${m[4]}:${m[5]}` : date;
}

/**
 * Creates the viewer over the dialog rendered by the page.
 * `host`: { result(i), count(), hasMore(), loadMore(): Promise, onSimilar(r), onFolder(folder, r), onClose(i) }.
 */
export function createViewer(host) {
  const ui = {
    dialog: $('lightbox'),
    stage: $('lb-stage'),
    img: $('lb-img'),
    path: $('lb-path'),
    meta: $('lb-meta'),
    counter: $('lb-counter'),
    similar: $('lb-similar'),
    open: $('lb-open'),
    download: $('lb-download'),
    copy: $('lb-copy'),
    info: $('lb-info'),
    infoToggle: $('lb-info-toggle'),
    details: $('lb-details'),
    fullPath: $('lb-fullpath'),
    copyFull: $('lb-copy-full'),
    close: $('lb-close'),
    prev: $('lb-prev'),
    next: $('lb-next'),
    zoomIn: $('lb-zoom-in'),
    zoomOut: $('lb-zoom-out'),
    zoomFit: $('lb-zoom-fit'),
    zoomLevel: $('lb-zoom-level'),
    status: $('lb-status'),
  };
  const infoCache = new Map();
  const v = {
    index: -1,
    /** @type {any} */ r: null,
    scale: 1,
    tx: 0,
    ty: 0,
    /** Source on screen: 'thumb' | 'display' | 'original'. */ source: 'thumb',
    pointers: new Map(),
    gesture: null,
    lastTap: { at: 0, x: 0, y: 0 },
  };

  // ---------------------------------------------------------------- opening and moving

  function open(i) {
    const r = host.result(i);
    if (!r) return;
    v.index = i;
    v.r = r;
    resetZoom();
    ui.dialog.classList.remove('ready');
    ui.img.alt = r.path;
    if (r.width > 0 && r.height > 0) {
      ui.img.width = r.width;
      ui.img.height = r.height;
    } else {
      ui.img.removeAttribute('width');
      ui.img.removeAttribute('height');
    }
    // The grid's thumbnail shows at once; the sharper source replaces it once loaded.
    ui.img.src = `/api/images/${r.id}/thumbnail?size=512`;
    v.source = 'thumb';
    const sharp = showsOriginal(r) ? 'original' : 'display';
    swapTo(sharp);
    ui.path.textContent = fileName(r.path);
    ui.path.title = absPath(r);
    ui.counter.textContent = `${i + 1} of ${host.count()}${host.hasMore() ? '+' : ''}`;
    ui.meta.textContent = metaLine(r);
    ui.open.href = r.imageUrl;
    ui.download.href = `/api/images/${r.id}?download=1`;
    ui.download.setAttribute('download', fileName(r.path));
    ui.prev.disabled = i === 0;
    ui.next.disabled = i >= host.count() - 1 && !host.hasMore();
    renderInfo(r, null);
    void loadInfo(r);
    if (!ui.dialog.open) {
      ui.dialog.showModal();
      ui.similar.focus();
    }
  }

  /** Whether the original shows as is: a browser-native format no larger than the rendition. */
  function showsOriginal(r) {
    return NATIVE.has(String(r.format).toLowerCase()) && r.width > 0 && r.width <= DISPLAY_SIZE && r.height <= DISPLAY_SIZE;
  }

  /** Loads `source` off screen and swaps it in when ready (if the same image is still shown). */
  function swapTo(source) {
    const r = v.r;
    const url = source === 'original' ? r.imageUrl : `/api/images/${r.id}/display`;
    const pre = new Image();
    pre.onload = () => {
      if (v.r !== r) return;
      ui.img.src = url;
      v.source = source;
      ui.dialog.classList.add('ready');
    };
    pre.onerror = () => {
      if (v.r !== r) return;
      ui.dialog.classList.add('ready');
      if (source === 'display') ui.status.textContent = 'This image cannot be shown larger (it could not be decoded).';
    };
    ui.status.textContent = '';
    pre.src = url;
  }

  function step(delta) {
    const i = v.index + delta;
    if (i < 0) return;
    if (i >= host.count()) {
      if (host.hasMore()) void host.loadMore().then(() => open(i));
      return;
    }
    open(i);
  }

  function close() {
    if (!ui.dialog.open) return;
    ui.dialog.close();
    v.r = null;
    host.onClose(v.index);
  }

  function metaLine(r) {
    const parts = [];
    if (r.width && r.height) parts.push(`${r.width} × ${r.height}`);
    if (r.format) parts.push(String(r.format).toUpperCase());
    if (r.bytes) parts.push(fmtBytes(r.bytes));
    if (typeof r.score === 'number') parts.push(`score ${r.score.toFixed(3)}`);
    return parts.join(' · ');
  }

  // ---------------------------------------------------------------- info panel

  async function loadInfo(r) {
    let info = infoCache.get(r.id);
    if (!info) {
      try {
        info = await api(`/api/images/${r.id}/info`);
        infoCache.set(r.id, info);
      } catch {
        return;
      }
    }
    if (v.r && v.r.id === r.id) renderInfo(r, info);
  }

  function renderInfo(r, info) {
    const d = { ...r, ...(info || {}) };
    const rows = [];
    if (d.takenAt) rows.push(['Taken', fmtTaken(d.takenAt) + (d.dateSource === 'mtime' ? ' (file date)' : '')]);
    else if (d.mtime) rows.push(['Modified', fmtTaken(localIso(d.mtime))]);
    if (d.camera || d.make || d.model) rows.push(['Camera', d.camera || [d.make, d.model].filter(Boolean).join(' ')]);
    if (d.lens) rows.push(['Lens', d.lens]);
    if (d.width && d.height) rows.push(['Dimensions', `${d.width} × ${d.height} px (${((d.width * d.height) / 1e6).toFixed(1)} MP)`]);
    const bytes = d.bytes ?? d.size;
    if (bytes) rows.push(['Size', `${fmtBytes(bytes)} (${Number(bytes).toLocaleString('en-US')} bytes)`]);
    if (d.format) rows.push(['Format', String(d.format).toUpperCase()]);
    if (typeof d.latitude === 'number' && typeof d.longitude === 'number') rows.push(['Location', `${d.latitude.toFixed(5)}, ${d.longitude.toFixed(5)}`]);
    const dl = [];
    for (const [k, val] of rows) dl.push(el('dt', '', k), el('dd', '', val));
    // The folder, as a link that filters the page to it.
    const folder = d.folder ?? folderOf(d.path);
    const link = el('a', 'lb-folder', folder ? `${folder}/` : 'the top folder');
    link.href = `/?path=${encodeURIComponent(folder ? `${folder}/` : '')}`;
    link.addEventListener('click', (e) => {
      e.preventDefault();
      close();
      host.onFolder(folder, d);
    });
    const dd = el('dd');
    dd.append(link);
    dl.push(el('dt', '', 'Folder'), dd);
    ui.details.replaceChildren(...dl);
    ui.fullPath.textContent = absPath(d);
  }

  /** ISO date-time in local time (no zone), for a file date. */
  function localIso(iso) {
    const t = new Date(iso);
    if (Number.isNaN(t.getTime())) return '';
    const p = (n) => String(n).padStart(2, '0');
    return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}`;
  }

  function setInfoOpen(show) {
    ui.dialog.classList.toggle('info-open', show);
    ui.infoToggle.setAttribute('aria-pressed', String(show));
    try {
      window.localStorage.setItem('pixsearch.info', show ? '1' : '0');
    } catch {
      // private mode: not remembered
    }
  }

  // ---------------------------------------------------------------- zoom and pan

  /** The image's box at scale 1 (untransformed), in client coordinates. */
  function baseBox() {
    const rect = ui.img.getBoundingClientRect();
    const w = rect.width / v.scale;
    const h = rect.height / v.scale;
    const cx = rect.left + rect.width / 2 - v.tx;
    const cy = rect.top + rect.height / 2 - v.ty;
    return { w, h, cx, cy };
  }

  function maxScale() {
    const b = baseBox();
    const natural = v.r && v.r.width > 0 ? v.r.width : ui.img.naturalWidth || b.w;
    // Up to 4 screen pixels per image pixel, and at least 4× the fitted size.
    return Math.max(4, (natural / Math.max(1, b.w)) * 4);
  }

  function apply() {
    ui.img.style.transform = v.scale === 1 && v.tx === 0 && v.ty === 0 ? '' : `translate(${v.tx}px, ${v.ty}px) scale(${v.scale})`;
    ui.dialog.classList.toggle('zoomed', v.scale > 1.001);
    ui.zoomLevel.textContent = `${Math.round(v.scale * 100)}%`;
    ui.zoomOut.disabled = v.scale <= 1.001;
    ui.zoomFit.disabled = v.scale <= 1.001;
    // Past the rendition's pixels, a browser-native original brings the detail.
    if (v.r && v.source !== 'original' && v.scale > 1.001 && NATIVE.has(String(v.r.format).toLowerCase())) {
      const b = baseBox();
      const shownPx = Math.min(v.r.width || Infinity, DISPLAY_SIZE);
      if (b.w * v.scale * (window.devicePixelRatio || 1) > shownPx && v.r.width > DISPLAY_SIZE) {
        v.source = 'original';
        swapTo('original');
      }
    }
  }

  function clampPan() {
    const b = baseBox();
    const stage = ui.stage.getBoundingClientRect();
    const mx = Math.max(0, (b.w * v.scale - stage.width) / 2);
    const my = Math.max(0, (b.h * v.scale - stage.height) / 2);
    v.tx = Math.max(-mx, Math.min(mx, v.tx));
    v.ty = Math.max(-my, Math.min(my, v.ty));
  }

  /** Zooms to `scale` keeping the image point under (x, y) (client coordinates) in place. */
  function zoomTo(scale, x, y) {
    const b = baseBox();
    const s2 = Math.max(1, Math.min(maxScale(), scale));
    const px = (x ?? b.cx) - b.cx;
    const py = (y ?? b.cy) - b.cy;
    v.tx = px - ((px - v.tx) * s2) / v.scale;
    v.ty = py - ((py - v.ty) * s2) / v.scale;
    v.scale = s2;
    if (s2 <= 1.001) {
      v.scale = 1;
      v.tx = 0;
      v.ty = 0;
    }
    clampPan();
    apply();
  }

  function resetZoom() {
    v.scale = 1;
    v.tx = 0;
    v.ty = 0;
    v.pointers.clear();
    v.gesture = null;
    apply();
  }

  /** Double-click / double-tap: fit ↔ 1:1 pixels (at least 2×) at that point. */
  function toggleZoom(x, y) {
    if (v.scale > 1.001) {
      zoomTo(1);
      return;
    }
    const b = baseBox();
    const oneToOne = v.r && v.r.width > 0 ? v.r.width / (window.devicePixelRatio || 1) / b.w : 2;
    zoomTo(Math.max(2, Math.min(oneToOne, 8)), x, y);
  }

  ui.stage.addEventListener(
    'wheel',
    (e) => {
      if (!ui.dialog.open) return;
      e.preventDefault();
      // Trackpad pinches arrive as wheel events with ctrlKey and small deltas.
      const k = e.ctrlKey ? 0.01 : 0.0025;
      const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
      zoomTo(v.scale * Math.exp(-dy * k), e.clientX, e.clientY);
    },
    { passive: false },
  );

  ui.stage.addEventListener('dblclick', (e) => {
    // (Pointer capture retargets the event to the stage: any point of it counts, except the buttons.)
    if (e.target.closest('button')) return;
    e.preventDefault();
    toggleZoom(e.clientX, e.clientY);
  });

  ui.stage.addEventListener('pointerdown', (e) => {
    v.downTarget = e.target;
    if (e.target.closest('button')) return;
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    try {
      ui.stage.setPointerCapture(e.pointerId);
    } catch {
      // not an active pointer (synthetic events): the gesture still works while over the stage
    }
    v.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY, x0: e.clientX, y0: e.clientY, t0: e.timeStamp });
    if (v.pointers.size === 2) {
      const [a, b] = [...v.pointers.values()];
      v.gesture = { kind: 'pinch', dist: Math.hypot(a.x - b.x, a.y - b.y), scale: v.scale };
    } else if (v.pointers.size === 1) {
      v.gesture = { kind: v.scale > 1.001 ? 'pan' : 'swipe', tx: v.tx, ty: v.ty, moved: false };
    }
  });

  ui.stage.addEventListener('pointermove', (e) => {
    const p = v.pointers.get(e.pointerId);
    if (!p || !v.gesture) return;
    const dx = e.clientX - p.x;
    const dy = e.clientY - p.y;
    p.x = e.clientX;
    p.y = e.clientY;
    const g = v.gesture;
    if (g.kind === 'pinch' && v.pointers.size >= 2) {
      const [a, b] = [...v.pointers.values()];
      const dist = Math.hypot(a.x - b.x, a.y - b.y);
      if (g.dist > 0) zoomTo((g.scale * dist) / g.dist, (a.x + b.x) / 2, (a.y + b.y) / 2);
    } else if (g.kind === 'pan') {
      v.tx += dx;
      v.ty += dy;
      clampPan();
      apply();
      g.moved = true;
    } else if (g.kind === 'swipe') {
      const sx = e.clientX - p.x0;
      if (Math.abs(sx) > 6) g.moved = true;
      ui.img.style.transform = `translateX(${sx}px)`;
    }
  });

  const endPointer = (e) => {
    const p = v.pointers.get(e.pointerId);
    if (!p) return;
    v.pointers.delete(e.pointerId);
    const g = v.gesture;
    if (g && g.kind === 'swipe' && v.pointers.size === 0) {
      ui.img.style.transform = '';
      const sx = e.clientX - p.x0;
      const sy = e.clientY - p.y0;
      if (e.type === 'pointerup' && Math.abs(sx) > SWIPE_PX && Math.abs(sx) > Math.abs(sy) * 1.5) {
        step(sx < 0 ? 1 : -1);
      } else if (e.type === 'pointerup' && e.pointerType !== 'mouse' && !g.moved) {
        // Double tap (touch and pen; mice get dblclick).
        const now = e.timeStamp;
        const near = Math.hypot(e.clientX - v.lastTap.x, e.clientY - v.lastTap.y) < 30;
        if (now - v.lastTap.at < DOUBLE_TAP_MS && near) {
          v.lastTap.at = 0;
          toggleZoom(e.clientX, e.clientY);
        } else {
          v.lastTap = { at: now, x: e.clientX, y: e.clientY };
        }
      }
    } else if (g && g.kind === 'pan' && !g.moved && e.pointerType !== 'mouse' && e.type === 'pointerup') {
      const now = e.timeStamp;
      if (now - v.lastTap.at < DOUBLE_TAP_MS) {
        v.lastTap.at = 0;
        toggleZoom(e.clientX, e.clientY);
      } else {
        v.lastTap = { at: now, x: e.clientX, y: e.clientY };
      }
    }
    if (v.pointers.size === 1) {
      v.gesture = { kind: v.scale > 1.001 ? 'pan' : 'swipe', moved: true };
    } else if (v.pointers.size === 0) {
      v.gesture = null;
    }
  };
  ui.stage.addEventListener('pointerup', endPointer);
  ui.stage.addEventListener('pointercancel', endPointer);

  // ---------------------------------------------------------------- controls

  ui.dialog.addEventListener('cancel', (e) => {
    // Esc: zoomed in, it fits first; else it closes (focus goes back to the tile).
    e.preventDefault();
    if (v.scale > 1.001) zoomTo(1);
    else close();
  });
  ui.dialog.addEventListener('click', (e) => {
    // A click on the dimmed backdrop (outside the image and the panels) closes it.
    // (Pointer capture retargets clicks on the image to the stage: judge by where the press began.)
    if (e.target === ui.dialog || (e.target === ui.stage && v.downTarget === ui.stage && v.scale <= 1.001)) close();
  });
  ui.dialog.addEventListener('keydown', (e) => {
    const typing = e.target && (e.target.tagName === 'INPUT' || e.target.tagName === 'TEXTAREA');
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const panStep = 80;
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      if (v.scale > 1.001) {
        v.tx += e.key === 'ArrowLeft' ? panStep : -panStep;
        clampPan();
        apply();
      } else step(e.key === 'ArrowLeft' ? -1 : 1);
    } else if ((e.key === 'ArrowUp' || e.key === 'ArrowDown') && v.scale > 1.001) {
      e.preventDefault();
      v.ty += e.key === 'ArrowUp' ? panStep : -panStep;
      clampPan();
      apply();
    } else if (e.key === '+' || e.key === '=') {
      e.preventDefault();
      zoomTo(v.scale * 1.5);
    } else if (e.key === '-' || e.key === '_') {
      e.preventDefault();
      zoomTo(v.scale / 1.5);
    } else if (e.key === '0') {
      e.preventDefault();
      zoomTo(1);
    } else if (e.key === 'i') {
      e.preventDefault();
      setInfoOpen(!ui.dialog.classList.contains('info-open'));
    } else if (e.key === 'PageDown' || e.key === 'PageUp') {
      e.preventDefault();
      step(e.key === 'PageUp' ? -1 : 1);
    }
  });
  ui.prev.addEventListener('click', () => step(-1));
  ui.next.addEventListener('click', () => step(1));
  ui.close.addEventListener('click', close);
  ui.zoomIn.addEventListener('click', () => zoomTo(v.scale * 1.5));
  ui.zoomOut.addEventListener('click', () => zoomTo(v.scale / 1.5));
  ui.zoomFit.addEventListener('click', () => zoomTo(1));
  ui.infoToggle.addEventListener('click', () => setInfoOpen(!ui.dialog.classList.contains('info-open')));
  ui.similar.addEventListener('click', () => {
    const r = v.r;
    if (!r) return;
    close();
    host.onSimilar(r);
  });

  /** Copies the full path; the button says so for a moment (the page's toast sits under the modal). */
  async function copyPath(button) {
    if (!v.r) return;
    const ok = await copyText(ui.fullPath.textContent || absPath(v.r));
    const label = button.querySelector('span');
    const before = label ? label.textContent : '';
    if (label) label.textContent = ok ? 'Copied' : 'Copy failed';
    ui.status.textContent = ok ? 'Path copied to the clipboard.' : 'The browser refused to copy; select the path in the details panel instead.';
    clearTimeout(v.copyTimer);
    v.copyTimer = setTimeout(() => {
      if (label) label.textContent = before;
      ui.status.textContent = '';
    }, 2000);
  }
  ui.copy.addEventListener('click', () => void copyPath(ui.copy));
  ui.copyFull.addEventListener('click', () => void copyPath(ui.copyFull));

  // The info panel starts open on wide screens (remembered), closed on phones.
  let remembered = null;
  try {
    remembered = window.localStorage.getItem('pixsearch.info');
  } catch {
    remembered = null;
  }
  setInfoOpen(remembered === null ? window.matchMedia('(min-width: 900px)').matches : remembered === '1');
  window.addEventListener('resize', () => {
    if (!ui.dialog.open) return;
    clearTimeout(v.resizeTimer);
    v.resizeTimer = setTimeout(() => zoomTo(v.scale), 50);
  });

  return {
    open,
    close,
    /** True while the viewer is open. */
    get isOpen() {
      return ui.dialog.open;
    },
    /** Index of the result shown (or last shown). */
    get index() {
      return v.index;
    },
    /** Re-renders the counter and next button after more results arrived. */
    refresh() {
      if (!ui.dialog.open || v.index < 0) return;
      ui.counter.textContent = `${v.index + 1} of ${host.count()}${host.hasMore() ? '+' : ''}`;
      ui.next.disabled = v.index >= host.count() - 1 && !host.hasMore();
    },
  };
}

// The library panel: indexed folders with their counts, skipped files with their reasons, the
// model and the vector backend, and how to add a folder. Opened from the image count in the top bar.
import { $, api, el, fmtBytes, fmtInt } from './dom.js';

/** What each skip reason means, in the user's words. */
const REASONS = {
  empty: 'Empty files',
  truncated: 'Truncated (cut-off) files',
  corrupt: 'Damaged images',
  'not-an-image': 'Not images (wrong extension)',
  'unsupported-format': 'Formats that cannot be decoded here',
  'too-large': 'Too large (pixels or bytes)',
  'broken-symlink': 'Broken symbolic links',
  'not-a-file': 'Not regular files (FIFOs, devices)',
  'invalid-file-name': 'File names that are not UTF-8',
  unreadable: 'Unreadable (permissions; retried on every sync)',
  'embed-error': 'Failed in the model (retried on every sync)',
  'model-changed': 'Waiting to be embedded with the new model',
  'no-preview': 'RAW files without an embedded preview',
};

/**
 * `host`: { onFolder(path) } — called with an absolute folder path (with a trailing `/`) when a
 * folder of the list is chosen.
 */
export function createLibraryPanel(host) {
  const ui = { dialog: $('library'), body: $('library-body'), open: $('library-open'), close: $('library-close') };

  async function open() {
    if (!ui.dialog.open) ui.dialog.showModal();
    ui.body.replaceChildren(el('p', 'muted', 'Loading…'));
    try {
      const [status, facets] = await Promise.all([api('/api/status'), api('/api/facets').catch(() => null)]);
      render(status, facets);
    } catch (err) {
      ui.body.replaceChildren(el('p', 'error-text', `The library could not be read: ${err.message}`));
    }
  }

  function render(s, facets) {
    const parts = [];
    // Counts.
    const stats = el('div', 'lib-stats');
    for (const [n, label] of [
      [s.images.indexed, 'indexed'],
      [s.skippedTotal ?? s.images.skipped, 'skipped'],
      [s.images.failed, 'failed'],
    ]) {
      const box = el('div', 'lib-stat');
      box.append(el('strong', '', fmtInt(n)), el('span', '', label));
      stats.append(box);
    }
    parts.push(stats);

    // Folders.
    parts.push(el('h3', '', s.roots.length === 1 ? 'Folder' : 'Folders'));
    if (s.roots.length === 0) {
      parts.push(el('p', 'muted', 'No folder is indexed yet.'));
    } else {
      const list = el('ul', 'lib-roots');
      for (const root of s.roots) {
        const li = el('li');
        const counts = facets && facets.folders ? facets.folders.find((f) => f.path === root || f.path === `${root}/`) : null;
        if (facets) {
          const a = el('a', 'lib-root', root);
          a.href = `/?path=${encodeURIComponent(`${root}/`)}`;
          a.addEventListener('click', (e) => {
            e.preventDefault();
            ui.dialog.close();
            host.onFolder(`${root}/`);
          });
          li.append(a);
        } else {
          li.append(el('code', 'lib-root', root));
        }
        li.append(el('span', 'muted', counts ? ` ${fmtInt(counts.count)} images` : ''));
        list.append(li);
      }
      parts.push(list);
    }
    const how = el('p', 'hint');
    how.append('To add a folder, run ', el('code', '', 'pixsearch index /path/to/photos'), ' (or restart with ', el('code', '', './pixsearch.sh serve /path/to/photos'), '). Files added to these folders appear after a sync.');
    parts.push(how);

    // Model and index.
    parts.push(el('h3', '', 'Model and index'));
    const dl = el('dl', 'lib-facts');
    const params = Object.entries(s.backendParams || {})
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const facts = [
      ['Model', `${s.model} (${s.dimension} dimensions)`],
      ['Vector backend', params ? `${s.backend} (${params})` : s.backend],
      ['Vectors', fmtInt(s.indexSize)],
      ['Last sync', s.lastSync ? new Date(s.lastSync).toLocaleString() : 'never'],
      ['Data on disk', fmtBytes(s.dataDirBytes)],
      ['Server', `pixsearch ${s.version}`],
    ];
    for (const [k, v] of facts) dl.append(el('dt', '', k), el('dd', '', v));
    parts.push(dl);

    // Skipped files, grouped by reason.
    const skipped = s.skipped || [];
    parts.push(el('h3', '', `Skipped files (${fmtInt(s.skippedTotal ?? skipped.length)})`));
    if (skipped.length === 0) {
      parts.push(el('p', 'muted', 'None: every file found was indexed.'));
    } else {
      const groups = new Map();
      for (const f of skipped) {
        if (!groups.has(f.reason)) groups.set(f.reason, []);
        groups.get(f.reason).push(f);
      }
      for (const [reason, files] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
        const det = el('details', 'lib-skip');
        const sum = el('summary');
        sum.append(el('span', '', REASONS[reason] || reason), el('span', 'lib-skip-count', fmtInt(files.length)));
        det.append(sum);
        const ul = el('ul');
        for (const f of files) {
          const li = el('li');
          li.append(el('code', 'lib-skip-path', f.root ? `${f.root.replace(/\/$/, '')}/${f.path}` : f.path), el('span', 'muted', f.message));
          ul.append(li);
        }
        det.append(ul);
        parts.push(det);
      }
      if ((s.skippedTotal ?? 0) > skipped.length) parts.push(el('p', 'muted', `The first ${fmtInt(skipped.length)} are listed; \`pixsearch status\` lists them all.`));
    }
    ui.body.replaceChildren(...parts);
  }

  ui.open.addEventListener('click', () => void open());
  ui.close.addEventListener('click', () => ui.dialog.close());
  ui.dialog.addEventListener('click', (e) => {
    if (e.target === ui.dialog) ui.dialog.close();
  });
  ui.dialog.addEventListener('close', () => ui.open.focus());

  return {
    open,
    get isOpen() {
      return ui.dialog.open;
    },
  };
}


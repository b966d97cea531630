/** @jsxImportSource hono/jsx */
import { assetUrl } from './assets.js';
import { Icon, Layout } from './layout.js';

/** What the page shows before its script has asked the API. */
export interface PageInfo {
  indexed: number;
  model: string;
  backend: string;
  syncing: boolean;
  maxK: number;
  maxUploadBytes: number;
  maxQueryChars: number;
  /** The library's folders (absolute). */
  roots: string[];
}

/** The search page: a server-rendered shell that `app.js` brings to life. */
export function renderSearchPage(info: PageInfo): string {
  const count = `${info.indexed.toLocaleString('en-US')} ${info.indexed === 1 ? 'image' : 'images'}`;
  return (
    '<!doctype html>' +
    (
      <Layout
        title="pixsearch"
        script
        bodyAttrs={{
          'data-max-k': String(info.maxK),
          'data-max-upload': String(info.maxUploadBytes),
          'data-indexed': String(info.indexed),
        }}
      >
        <a class="skip" href="#results">
          Skip to results
        </a>
        <header class="topbar">
          <a class="brand" href="/" aria-label="pixsearch home">
            <img src={assetUrl('icon.svg')} alt="" width="28" height="28" />
            <span>pixsearch</span>
          </a>
          <form class="search" id="search-form" role="search" action="/" method="get">
            <Icon.search />
            <input
              id="q"
              name="q"
              type="search"
              placeholder="Describe what you are looking for…"
              aria-label="Search images by description"
              autocomplete="off"
              spellcheck={false}
              maxlength={info.maxQueryChars}
            />
            <kbd class="hint-key" aria-hidden="true">
              /
            </kbd>
            <button type="button" class="icon-btn" id="pick" title="Search by an image (or drop / paste one)" aria-label="Search by an image">
              <Icon.image />
            </button>
            <input type="file" id="file" accept="image/*" hidden />
          </form>
          <div class="status" id="status">
            <button type="button" class="btn btn-ghost status-btn" id="library-open" aria-haspopup="dialog" title={`Library: folders, skipped files, model ${info.model} · ${info.backend}`}>
              <Icon.library />
              <span class="status-text" id="status-text">
                {count}
              </span>
            </button>
            <button type="button" class="btn btn-ghost" id="sync" aria-label="Sync the library now" disabled={info.syncing}>
              <Icon.sync />
              <span>Sync</span>
            </button>
          </div>
        </header>
        <div class="syncbar" id="syncbar" role="progressbar" aria-label="Sync progress" aria-valuemin={0} aria-valuemax={100} hidden>
          <div class="syncbar-track">
            <div class="syncbar-fill" id="syncbar-fill"></div>
          </div>
          <span class="syncbar-text" id="syncbar-text"></span>
        </div>
        <div class="toolbar" id="toolbar" hidden>
          <div class="query-chip" id="query-chip"></div>
          <div class="filter-chips" id="filter-chips"></div>
          <span class="result-count" id="result-count" aria-live="polite"></span>
          <div class="toolbar-controls">
            <button type="button" class="btn" id="filters-toggle" aria-label="Filters" aria-expanded="false" aria-controls="filter-panel">
              <Icon.filter />
              <span>Filters</span>
            </button>
            <button type="button" class="btn" id="dupes-open" aria-label="Duplicates" aria-pressed="false" title="Find exact copies and near-duplicates">
              <Icon.similar />
              <span>Duplicates</span>
            </button>
            <label class="sort">
              <span>Sort</span>
              <select id="sort" aria-label="Sort">
                <option value="relevance">Best match</option>
                <option value="date-desc">Newest first</option>
                <option value="date-asc">Oldest first</option>
              </select>
            </label>
            <label class="minscore">
              <span>Min score</span>
              <input type="range" id="min-score" min="-1" max="1" step="0.01" value="0.1" aria-label="Minimum score" />
              <output id="min-score-value">0.10</output>
            </label>
          </div>
          <form class="filter-panel" id="filter-panel" aria-label="Filters" hidden>
            <label>
              <span>Taken from</span>
              <input type="date" name="from" />
            </label>
            <label>
              <span>to</span>
              <input type="date" name="to" />
            </label>
            <label class="wide">
              <span>Folder</span>
              <select name="path">
                <option value="">All folders</option>
              </select>
            </label>
            <label>
              <span>Camera</span>
              <select name="camera">
                <option value="">Any camera</option>
              </select>
            </label>
            <label>
              <span>Format</span>
              <select name="format">
                <option value="">Any format</option>
              </select>
            </label>
            <label>
              <span>Min width (px)</span>
              <input type="number" name="minWidth" min="0" step="100" inputmode="numeric" placeholder="any" />
            </label>
            <label>
              <span>Min height (px)</span>
              <input type="number" name="minHeight" min="0" step="100" inputmode="numeric" placeholder="any" />
            </label>
            <label>
              <span>Location</span>
              <select name="hasLocation">
                <option value="">Any</option>
                <option value="true">With GPS position</option>
                <option value="false">Without</option>
              </select>
            </label>
            <div class="filter-actions">
              <button type="reset" class="btn btn-ghost" id="filters-clear">
                Clear all
              </button>
            </div>
          </form>
        </div>
        <div class="selbar" id="selbar" role="region" aria-label="Selection" hidden>
          <button type="button" class="icon-btn" id="sel-clear" aria-label="Clear the selection" title="Clear the selection (Esc)">
            <Icon.close />
          </button>
          <span class="sel-count" id="sel-count" aria-live="polite"></span>
          <div class="sel-actions">
            <button type="button" class="btn btn-ghost" id="sel-all" aria-label="Select all" title="Select every loaded result (Ctrl+A)">
              <Icon.check />
              <span>Select all</span>
            </button>
            <button type="button" class="btn" id="sel-copy" aria-label="Copy paths" title="Copy the full paths, one per line">
              <Icon.copy />
              <span>Copy paths</span>
            </button>
            <button type="button" class="btn" id="sel-zip" aria-label="Download zip">
              <Icon.download />
              <span>Download zip</span>
            </button>
            <button type="button" class="btn btn-primary" id="sel-like" aria-label="More like these">
              <Icon.similar />
              <span>More like these</span>
            </button>
          </div>
        </div>
        <main id="results" tabindex={-1}>
          <section class="message" id="message" aria-live="polite">
            {info.indexed === 0 ? (
              <div class="empty">
                <h1>Your library is empty</h1>
                {info.roots.length > 0 ? (
                  <>
                    <p>{info.roots.length === 1 ? 'The indexed folder holds no images yet:' : 'The indexed folders hold no images yet:'}</p>
                    <ul class="root-list">
                      {info.roots.map((r) => (
                        <li>
                          <code>{r}</code>
                        </li>
                      ))}
                    </ul>
                    <p>Put photos there, then press Sync.</p>
                  </>
                ) : (
                  <p>No folder is indexed yet.</p>
                )}
                <p class="hint">
                  To add a folder, run <code>pixsearch index /path/to/photos</code> (or start the server with it: <code>./pixsearch.sh serve /path/to/photos</code>).
                </p>
              </div>
            ) : (
              <div class="welcome">
                <h1>Search {count} by describing them</h1>
                <p>Type what you are looking for, or drop an image anywhere to find similar ones.</p>
                <div class="examples" id="examples">
                  <button type="button" class="chip" data-q="a dog playing on the beach">
                    a dog playing on the beach
                  </button>
                  <button type="button" class="chip" data-q="sunset over mountains">
                    sunset over mountains
                  </button>
                  <button type="button" class="chip" data-q="a red car in the city">
                    a red car in the city
                  </button>
                  <button type="button" class="chip" data-q='"birthday cake" - "candles"'>
                    "birthday cake" - "candles"
                  </button>
                </div>
                <p class="keys">
                  <kbd>/</kbd> search · <kbd>←</kbd>
                  <kbd>→</kbd> move · <kbd>Enter</kbd> open · <kbd>Esc</kbd> close
                </p>
              </div>
            )}
          </section>
          <section class="dupes" id="dupes" aria-label="Duplicates" hidden></section>
          <div class="grid" id="grid" role="list" aria-label="Results"></div>
          <p class="end-marker" id="end-marker" hidden></p>
          <div class="sentinel" id="sentinel" aria-hidden="true"></div>
          <div class="more-wrap">
            <button type="button" class="btn" id="more" hidden>
              Load more
            </button>
          </div>
        </main>
        <dialog class="lightbox" id="lightbox" aria-label="Image viewer">
          <div class="lb-main">
            <div class="lb-top">
              <div class="lb-title">
                <div class="lb-path" id="lb-path"></div>
                <div class="lb-meta">
                  <span id="lb-counter"></span> · <span id="lb-meta"></span>
                </div>
              </div>
              <div class="lb-zoom" role="group" aria-label="Zoom">
                <button type="button" class="icon-btn" id="lb-zoom-out" aria-label="Zoom out" title="Zoom out (-)">
                  <Icon.zoomOut />
                </button>
                <output id="lb-zoom-level" aria-live="polite">
                  100%
                </output>
                <button type="button" class="icon-btn" id="lb-zoom-in" aria-label="Zoom in" title="Zoom in (+)">
                  <Icon.zoomIn />
                </button>
                <button type="button" class="icon-btn" id="lb-zoom-fit" aria-label="Fit to screen" title="Fit (0)">
                  <Icon.fit />
                </button>
              </div>
              <div class="lb-actions">
                <button type="button" class="btn btn-primary" id="lb-similar" aria-label="More like this" title="More like this">
                  <Icon.similar />
                  <span>More like this</span>
                </button>
                <a class="btn" id="lb-download" href="#" download aria-label="Download" title="Download the original">
                  <Icon.download />
                  <span>Download</span>
                </a>
                <button type="button" class="icon-btn" id="lb-copy" aria-label="Copy path" title="Copy the full path">
                  <Icon.copy />
                </button>
                <a class="icon-btn" id="lb-open" href="#" target="_blank" rel="noopener" aria-label="Open the original in a new tab" title="Open the original in a new tab">
                  <Icon.open />
                </a>
                <button type="button" class="icon-btn" id="lb-info-toggle" aria-label="Details" aria-pressed="false" aria-controls="lb-info" title="Details (i)">
                  <Icon.info />
                </button>
                <button type="button" class="icon-btn" id="lb-close" aria-label="Close" title="Close (Esc)">
                  <Icon.close />
                </button>
              </div>
            </div>
            <div class="lb-stage" id="lb-stage">
              <img id="lb-img" alt="" draggable={false} />
              <button type="button" class="lb-nav lb-prev icon-btn" id="lb-prev" aria-label="Previous image" title="Previous (←)">
                <Icon.left />
              </button>
              <button type="button" class="lb-nav lb-next icon-btn" id="lb-next" aria-label="Next image" title="Next (→)">
                <Icon.right />
              </button>
            </div>
            <div class="lb-status" id="lb-status" role="status" aria-live="polite"></div>
          </div>
          <aside class="lb-info" id="lb-info" aria-label="Details">
            <h2>Details</h2>
            <dl class="lb-details" id="lb-details"></dl>
            <h3>Full path</h3>
            <p class="lb-fullpath" id="lb-fullpath"></p>
            <button type="button" class="btn" id="lb-copy-full">
              <Icon.copy />
              <span>Copy path</span>
            </button>
          </aside>
        </dialog>
        <dialog class="library" id="library" aria-labelledby="library-title">
          <div class="library-head">
            <h2 id="library-title">Library</h2>
            <button type="button" class="icon-btn" id="library-close" aria-label="Close" title="Close (Esc)">
              <Icon.close />
            </button>
          </div>
          <div class="library-body" id="library-body">
            <p class="muted">Loading…</p>
          </div>
        </dialog>
        <div class="drop" id="drop" hidden>
          <div class="drop-card">
            <Icon.upload />
            <p>Drop an image to find similar ones</p>
          </div>
        </div>
        <div class="toast" id="toast" role="status" aria-live="polite" hidden></div>
        <noscript>
          <p class="noscript">The search page needs JavaScript. The JSON API is described at /api/openapi.json.</p>
        </noscript>
      </Layout>
    ).toString()
  );
}

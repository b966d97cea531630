/** @jsxImportSource hono/jsx */
import { assetUrl } from './assets.js';
import { Layout } from './layout.js';

/** The 401 page shown to a browser without the access token. */
export function renderTokenPage(wrongToken: boolean): string {
  return (
    '<!doctype html>' +
    (
      <Layout title="pixsearch — sign in">
        <main class="signin">
          <form class="signin-card" method="get" action="/">
            <img src={assetUrl('icon.svg')} alt="" width="48" height="48" />
            <h1>This pixsearch server needs its access token</h1>
            <p>
              Open the link printed by <code>pixsearch serve</code> (it ends in <code>?token=…</code>), or paste the token here.
            </p>
            {wrongToken ? <p class="signin-error" role="alert">That token is not valid.</p> : null}
            <label for="token">Access token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
            <button type="submit" class="btn btn-primary">
              Continue
            </button>
          </form>
        </main>
      </Layout>
    ).toString()
  );
}

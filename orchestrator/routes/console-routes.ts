import { Hono, type Context } from 'hono';
import type { ControlPlaneDeps } from '../app.js';
import { CONSOLE_FILES, CONSOLE_HEADERS, loadConsoleAssets, type ConsoleAsset } from '../console/assets.js';
import type { AppEnv } from '../http/env.js';
import { HttpProblem } from '../http/problem.js';
import { pathParam } from '../http/path-params.js';

/**
 * The web console's static files at /console/ (docs/console.md): public, since they hold no
 * data; the page reads everything through the JSON API with the token the operator signs in with.
 */
export function consoleRoutes(_deps: ControlPlaneDeps, load: () => Map<string, ConsoleAsset> | undefined = loadConsoleAssets): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Read on first use (and again while missing): starting a control plane never depends on the console being built.
  let assets: Map<string, ConsoleAsset> | undefined;
  const serve = (c: Context<AppEnv>, name: string) => {
    // Checked against the fixed list before anything is read: a name the console has no file for
    // is a 404 whether or not the console is built.
    if (!Object.hasOwn(CONSOLE_FILES, name))
      throw new HttpProblem(404, 'request.not_found', 'No such console file', { detail: `the console has no file '${name}'` });
    assets ??= load();
    // A 404, not a 503: this install has no console (dist/ built without it), and asking again will not change that.
    if (!assets) throw new HttpProblem(404, 'console.not_built', 'The web console is not built', { detail: 'run npm run build to write dist/console' });
    const asset = assets.get(name)!;
    const headers = { ...CONSOLE_HEADERS, etag: asset.etag };
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
    return c.body(asset.body, 200, { ...headers, 'content-type': asset.contentType });
  };
  // Relative, so a control plane behind a path prefix (its publicUrl) redirects within it.
  app.get('/console', (c) => c.redirect('console/', 301));
  app.get('/console/', (c) => serve(c, 'index.html'));
  app.get('/console/:file', (c) => serve(c, pathParam(c, 'file')));
  return app;
}

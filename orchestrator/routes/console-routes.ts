import { Hono, type Context } from 'hono';
import type { ControlPlaneDeps } from '../app.js';
import { CONSOLE_HEADERS, loadConsoleAssets, type ConsoleAsset } from '../console/assets.js';
import type { AppEnv } from '../http/env.js';
import { HttpProblem } from '../http/problem.js';

/**
 * The web console's static files at /console/ (docs/console.md): public, since they hold no
 * data; the page reads everything through the JSON API with the token the operator signs in with.
 */
export function consoleRoutes(_deps: ControlPlaneDeps, load: () => Map<string, ConsoleAsset> | undefined = loadConsoleAssets): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Read once, on first use: starting a control plane never depends on the console being built.
  let assets: Map<string, ConsoleAsset> | undefined;
  const serve = (c: Context<AppEnv>, name: string) => {
    assets ??= load();
    if (!assets) {
      throw new HttpProblem(503, 'console.not_built', 'The web console is not built', { detail: 'run npm run build to write dist/console' });
    }
    const asset = assets.get(name);
    if (!asset) throw new HttpProblem(404, 'request.not_found', 'No such console file', { detail: `the console has no file '${name}'` });
    const headers = { ...CONSOLE_HEADERS, etag: asset.etag };
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
    return c.body(asset.body, 200, { ...headers, 'content-type': asset.contentType });
  };
  // Relative, so a control plane behind a path prefix (its publicUrl) redirects within it.
  app.get('/console', (c) => c.redirect('console/', 301));
  app.get('/console/', (c) => serve(c, 'index.html'));
  app.get('/console/:file', (c) => serve(c, c.req.param('file')));
  return app;
}

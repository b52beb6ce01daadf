// Builds the web console into dist/console (docs/console.md): one minified script bundled from
// console/src, its page, style sheet and icon. The control plane serves exactly these files (orchestrator/console/assets.ts).
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/console');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'console/src/main.ts')],
  outfile: join(out, 'console.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // What Debian's Chromium and current tablet browsers run.
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'console.css', 'favicon.svg']) copyFileSync(join(root, 'console', file), join(out, file));

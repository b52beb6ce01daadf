// Bundles each sandbox thread's entry into one CommonJS file after `tsc`: a worker that loads
// one file instead of some thirty ES modules starts ~30 ms sooner, which is most of a cold start.
import { build } from 'esbuild';

const entries = [
  ['dist/runtime/sandbox/worker-main.js', 'dist/runtime/sandbox/worker-main.bundle.cjs'],
  ['dist/runtime/sandbox/process-main.js', 'dist/runtime/sandbox/process-main.bundle.cjs'],
];

for (const [entry, outfile] of entries) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
    // koffi finds its native part beside its own files: it is loaded from node_modules, never bundled.
    external: ['koffi'],
    // common/paths.ts finds the package from its own location: give the bundle its file URL.
    banner: { js: 'const __berthModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__berthModuleUrl' },
  });
}

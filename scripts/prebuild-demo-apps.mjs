// Run by `npm install` (prepare), after the build: builds the demo's two sample components once
// (~40 s) so that `npm start` starts at once. A failure here never fails the install: the demo
// builds them itself when it starts and says what is missing.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/demo/apps.js', import.meta.url);
if (!existsSync(built)) process.exit(0);
try {
  const { buildDemoApps, defaultDemoCache } = await import(built.href);
  const t0 = Date.now();
  let building = false;
  await buildDemoApps(defaultDemoCache(), (app) => {
    building = true;
    process.stdout.write(`berth: building the demo app ${app} (componentize-js)...\n`);
  });
  if (building) process.stdout.write(`berth: demo apps built in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
} catch (err) {
  process.stdout.write(`berth: demo apps not prebuilt (${err instanceof Error ? err.message : String(err)}); npm start builds them\n`);
}

// Run by `npm install` (prepare), after the build, and by `npm run fetch-wasmtime`: puts the pinned
// Wasmtime library, its sha256 checked, into Berth's cache (pip fetches the wheel if the machine
// has no verified copy). Prints one line. Never fails the install: without the library Berth
// runs on jco where jco is installed, and says so; a device install has no jco (docs/engine.md).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const built = new URL('../dist/runtime/engine/wasmtime/library.js', import.meta.url);
const say = (line) => process.stdout.write(`berth: ${line}\n`);

/** What happens without the library: jco runs the apps, or, in a device install, nothing can. */
function without() {
  try {
    createRequire(import.meta.url).resolve('@bytecodealliance/jco');
    return 'Berth runs on jco';
  } catch {
    return 'jco is not installed either (a device install), so Berth cannot run apps until the library is in place (docs/engine.md, "A device install")';
  }
}

if (!existsSync(built)) {
  say(`no Wasmtime library fetched: Berth is not built yet (run \`npm run build\`, then \`npm run fetch-wasmtime\`); ${without()}`);
  process.exit(0);
}
try {
  const { locateWasmtimeLibrary } = await import(built.href);
  const found = await locateWasmtimeLibrary({ fetch: true });
  if ('missing' in found) say(`${found.missing}. ${without()}`);
  else say(`Wasmtime library at ${found.path} (${found.source}, sha256 ${found.sha256} verified)`);
} catch (err) {
  say(`${err instanceof Error ? err.message : String(err)}. ${without()}`);
}
process.exit(0);

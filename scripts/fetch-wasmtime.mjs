// Run by `npm install` (prepare), after the build, and by `npm run fetch-wasmtime`: puts the pinned
// Wasmtime library, its sha256 checked, into Berth's cache (pip fetches the wheel if the machine
// has no verified copy). Prints one line. Never fails the install: without the library Berth
// runs on jco and says so.
import { existsSync } from 'node:fs';

const built = new URL('../dist/runtime/engine/wasmtime/library.js', import.meta.url);
const say = (line) => process.stdout.write(`berth: ${line}\n`);
if (!existsSync(built)) {
  say('no Wasmtime library fetched: Berth is not built yet (run `npm run build`, then `npm run fetch-wasmtime`); Berth runs on jco');
  process.exit(0);
}
try {
  const { locateWasmtimeLibrary } = await import(built.href);
  const found = await locateWasmtimeLibrary({ fetch: true });
  if ('missing' in found) say(`${found.missing}. Berth runs on jco`);
  else say(`Wasmtime library at ${found.path} (${found.source}, sha256 ${found.sha256} verified)`);
} catch (err) {
  say(`${err instanceof Error ? err.message : String(err)}. Berth runs on jco`);
}
process.exit(0);

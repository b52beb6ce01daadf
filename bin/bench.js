#!/usr/bin/env node
import { existsSync } from 'node:fs';
const entry = new URL('../dist/bench/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('bench: not built yet; run `npm install` (or `npm run build`) first\n');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));

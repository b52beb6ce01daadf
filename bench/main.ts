import { describeMachine, formatTable, type BenchResult } from './report.js';

/** `npm run bench -- <name> [options]`: each benchmark is a module exporting `run(argv)`. */
const benches: Record<string, () => Promise<{ run(argv: string[]): Promise<BenchResult> }>> = {
  runtime: () => import('./runtime.js'),
  pki: () => import('./pki.js'),
  'supply-chain': () => import('./supply-chain.js'),
  fleet: () => import('./fleet.js'),
  advisory: () => import('./advisory.js'),
  isolation: () => import('./isolation.js'),
  e2e: () => import('./e2e.js'),
  fuzz: () => import('./fuzz.js'),
  http: () => import('./http.js'),
  tuf: () => import('./tuf.js'),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const names = name && name !== 'all' ? [name] : Object.keys(benches);
  for (const n of names) {
    if (!benches[n]) {
      process.stderr.write(`bench: unknown benchmark '${n}'; known: ${Object.keys(benches).join(', ')}\n`);
      return 2;
    }
  }
  const machine = await describeMachine();
  const results: BenchResult[] = [];
  for (const n of names) {
    const mod = await benches[n]!();
    const result = await mod.run(rest);
    results.push(result);
    process.stdout.write(formatTable(result) + '\n\n');
  }
  process.stdout.write(JSON.stringify({ machine, results }) + '\n');
  return 0;
}

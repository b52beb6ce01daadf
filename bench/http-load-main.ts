import { runNodeLoad, type LoadSpec } from './http-load-client.js';

/** Child process entry of the Node load generator: the spec as JSON in argv, the result as JSON on stdout. */
const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const result = await runNodeLoad(spec);
process.stdout.write(`${JSON.stringify(result)}\n`);

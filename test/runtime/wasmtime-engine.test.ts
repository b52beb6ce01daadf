import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Runtime, type IsolationTier } from '../../runtime/runtime.js';
import { fixturePath } from '../fixtures/build.js';
import { waitFor } from '../support/app-logs.js';
import { testEngine } from '../support/engines.js';
import { suiteTempDir } from '../support/tmp.js';

const bytes = (name: string) => readFileSync(fixturePath(name));

describe('the Wasmtime engine', async () => {
  const dataDir = suiteTempDir('wasmtime-engine');
  const engine = await testEngine('wasmtime', `${dataDir}/cache`);
  const lines: { app?: string; msg: string }[] = [];
  const log = (o: { app?: string }, msg: string) => lines.push({ app: o.app, msg });
  const logger = { info: log, warn: log, error: log, debug() {}, trace() {} } as never;
  const runtime = new Runtime({ dataDir, engine, logger, backoff: { initialMs: 50, maxMs: 400, factor: 2, resetAfterMs: 60_000 } });
  afterAll(() => runtime.close());

  for (const tier of ['worker', 'instance', 'process'] as IsolationTier[]) {
    it(`runs an app on the ${tier} tier`, async () => {
      const app = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: `hello-${tier}`, grants: { log: {} }, tier });
      await waitFor(() => lines.some((l) => l.app === `hello-${tier}` && l.msg === 'hello from wat')).catch((err) => {
        throw new Error(`${err.message}; logged: ${JSON.stringify(lines)}`);
      });
      expect(await app.invoke('add', [40, 2])).toEqual({ ok: true, value: 42 });
      await app.stop();
    });
  }
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGrants } from '../../host-apis/grants.js';
import { JcoEngine } from '../../runtime/engine/jco/jco-engine.js';
import { runOnce } from '../../runtime/run-once.js';
import { fixturePath } from '../fixtures/build.js';
import { suiteTempDir } from '../support/tmp.js';

describe('berth run (one app, one call) with a messaging grant', () => {
  const dataDir = suiteTempDir('messaging-once');
  const engine = new JcoEngine({ cacheDir: join(dataDir, 'cache') });
  const once = (fn: string, args: unknown[], messaging: unknown) =>
    runOnce(readFileSync(fixturePath('messenger')), {
      engine,
      vendor: 'acme',
      app: 'messenger',
      grants: parseGrants({ messaging }),
      dataDir,
      fn,
      args,
      log: () => {},
    });

  it('has a broker of its own: a granted publish succeeds', async () => {
    const result = await once('flood', ['t', 3, 8], { publish: ['t'] });
    expect(result.outcome).toEqual({ ok: true, value: 'ok 3' });
  });

  it('still refuses what the grant does not list, naming the topic', async () => {
    const result = await once('subscribe', ['t'], { publish: ['t'] });
    expect(result.outcome).toMatchObject({ ok: false, failure: { kind: 'app-error', message: 'topic-not-granted(t)' } });
  });
});

import 'reflect-metadata';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../common/logger.js';
import { FleetAuthority } from '../../orchestrator/pki/fleet-authority.js';
import { openStore, type Store } from '../../orchestrator/store/store.js';
import { suiteTempDir } from '../support/tmp.js';

describe('fleet authority: a rotation and reloads at the same time', () => {
  let store: Store;
  const errors: { msg: string; err?: unknown }[] = [];
  const log = () => {};
  const logger = {
    info: log,
    warn: log,
    debug: log,
    trace: log,
    error: (o: { err?: unknown }, msg: string) => errors.push({ msg, err: o.err }),
    child: () => logger,
  } as unknown as Logger;
  beforeAll(async () => {
    store = await openStore({ kind: 'pglite', dataDir: join(suiteTempDir('fleet-reload'), 'store') });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('answers a committed rotation even when a change listener fails, and runs reloads one at a time', async () => {
    const authority = await FleetAuthority.open({ store, keyDir: suiteTempDir('fleet-reload-keys'), trustDomain: 'fleet.test', logger });
    let running = 0;
    let overlapped = false;
    authority.onChange(async () => {
      running++;
      overlapped ||= running > 1;
      await new Promise((r) => setTimeout(r, 20));
      running--;
    });
    authority.onChange(() => {
      throw new Error('ca.pem could not be written');
    });
    const before = authority.bundleSequence;
    const [rotated] = await Promise.all([authority.rotate({ newRoot: true }), authority.reload(), authority.reload()]);
    await authority.reload();
    expect(rotated.sequence).toBe(before + 1);
    expect(authority.bundleSequence).toBe(rotated.sequence);
    expect(overlapped).toBe(false);
    expect(errors.some((e) => e.msg === 'a fleet CA change listener failed' && /ca\.pem could not be written/.test(String(e.err)))).toBe(true);
  });
});

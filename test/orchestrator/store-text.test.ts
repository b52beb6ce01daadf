import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as capabilities from '../../orchestrator/store/capabilities.js';
import * as devices from '../../orchestrator/store/devices.js';
import { jsonParam } from '../../orchestrator/store/sanitise.js';
import { openStore, type Store } from '../../orchestrator/store/store.js';
import { storeBackends } from '../support/postgres.js';

/**
 * The store's text boundary on both back ends: PGlite and a real PostgreSQL server refuse lone
 * surrogates and U+0000 in jsonb (and U+0000 in text); the store makes free text storable and
 * refuses NUL in ids with a BerthError (a 4xx at the edge), never a driver error (a 500).
 */
const stores = storeBackends('store-text');

describe.each(stores.each)('store text on %s', (_name, location) => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(location());
  });
  afterAll(async () => {
    await store?.close();
  });

  it('JSON values: lone surrogates and NUL become U+FFFD, in keys and values, at any depth', async () => {
    await devices.insertDevice(store, { id: 'text-dev', status: 'active', labels: { [`a\ud800`]: `b\udc00`, n: 'x\u0000y' }, method: 'token' });
    expect((await devices.getDevice(store, 'text-dev'))!.labels).toEqual({ 'a\ufffd': 'b\ufffd', n: 'x\ufffdy' });
    await capabilities.putCapabilities(store, 'text-dev', { labels: { deep: [{ k: '\udbff' }] }, ok: '\ud83d\ude00' } as never);
    const [row] = await store.query<{ manifest: unknown }>('SELECT manifest FROM device_capabilities WHERE device_id = $1', ['text-dev']);
    // A well-formed pair is kept as it is.
    expect(row!.manifest).toEqual({ labels: { deep: [{ k: '\ufffd' }] }, ok: '\ud83d\ude00' });
  });

  it('plain text: lone surrogates become U+FFFD; NUL in an id or lookup is refused with store.nul_in_text', async () => {
    await expect(devices.getDevice(store, 'text\u0000dev')).rejects.toMatchObject({ name: 'BerthError', code: 'store.nul_in_text' });
    await expect(devices.resolveIdentifiers(store, [{ kind: 'mac', value: 'a\u0000' }])).rejects.toMatchObject({ code: 'store.nul_in_text' });
    const [row] = await store.query<{ t: string }>('SELECT $1::text AS t', ['x\udc00']);
    expect(row!.t).toBe('x\ufffd');
    // Inside a transaction too, and the transaction is rolled back rather than left broken.
    await expect(store.transaction((tx) => devices.getDevice(tx, '\u0000'))).rejects.toMatchObject({ code: 'store.nul_in_text' });
    expect((await store.query<{ j: unknown }>('SELECT $1::jsonb AS j', [jsonParam({ e: '\u0000' })]))[0]!.j).toEqual({ e: '\ufffd' });
  });
});

describe('JSON reaches the store only as jsonParam', () => {
  // A JSON.stringify'd string hides "\udc00" from the sanitiser as six ASCII characters.
  it('no control-plane file that runs queries serialises JSON itself', () => {
    const root = join(import.meta.dirname, '../../orchestrator');
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    const offenders = files.filter((f) => {
      const text = readFileSync(join(root, f), 'utf8');
      return /\.query(<[^>]*>)?\(/.test(text) && text.includes('JSON.stringify(');
    });
    expect(offenders).toEqual([]);
  });
});

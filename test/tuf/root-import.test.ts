import { Key } from '@tufjs/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { createOperatorToken } from '../../orchestrator/admin/tokens.js';
import { newTufSigningKey, type TufSigningKey } from '../../trust/tuf/keys.js';
import { newRoot } from '../../trust/tuf/root.js';
import { ONLINE_ROLES, type OnlineRole } from '../../wire/tuf.js';
import { call, startHarness, type Harness } from '../orchestrator/harness.js';

const DAY = 86_400_000;

/**
 * Every way a root upload can be wrong is refused with a named error and changes nothing
 * (docs/tuf.md): the control plane only ever serves a root chain a TUF client would accept.
 */
describe('PUT /api/v1/admin/tuf/root refuses what a TUF client would refuse', () => {
  let h: Harness;
  let online: Record<OnlineRole, Key>;
  const rootKeys = [newTufSigningKey(), newTufSigningKey(), newTufSigningKey()];
  beforeAll(async () => {
    h = await startHarness({ authorityRefreshMs: 0 });
    const set = (await h.admin('POST', '/api/v1/admin/tuf/online-keys', {})).body;
    online = Object.fromEntries(ONLINE_ROLES.map((r) => [r, Key.fromJSON(set.keys[r].keyid, set.keys[r].key)])) as Record<OnlineRole, Key>;
  });
  afterAll(async () => h?.stop());

  const root = (
    o: { version?: number; expires?: number; signers?: TufSigningKey[]; keys?: TufSigningKey[]; onlineKeys?: Partial<Record<OnlineRole, Key>> } = {},
  ) => {
    const keys = o.keys ?? rootKeys;
    const md = newRoot({
      version: o.version ?? 1,
      expires: new Date(Date.now() + (o.expires ?? 365 * DAY)),
      rootKeys: keys.map((k) => k.key),
      threshold: 2,
      online: { ...online, ...o.onlineKeys },
    });
    for (const k of o.signers ?? keys) md.sign(k.sign);
    return md.toJSON();
  };
  const put = (body: unknown) => h.admin('PUT', '/api/v1/admin/tuf/root', body);
  const refusal = async (body: unknown) => {
    const r = await put(body);
    return { status: r.status, code: r.body.code as string, detail: r.body.detail as string };
  };

  it('refuses each bad root with its own code, and nothing is published', async () => {
    expect(await refusal({ signed: {} })).toMatchObject({ status: 422, code: 'request.invalid' });
    const noExpiry = root() as { signed: Record<string, unknown> };
    delete noExpiry.signed.expires;
    expect(await refusal(noExpiry)).toMatchObject({ status: 422, code: 'tuf.root_malformed' });
    expect(await refusal(root({ version: 2 }))).toMatchObject({ status: 409, code: 'tuf.root_version', detail: expect.stringContaining('it must be 1') });
    expect(await refusal(root({ signers: [rootKeys[0]!] }))).toMatchObject({ status: 422, code: 'tuf.root_threshold' });
    expect(await refusal(root({ expires: -DAY }))).toMatchObject({ status: 422, code: 'tuf.root_expired' });
    const stranger = newTufSigningKey().key;
    expect(await refusal(root({ onlineKeys: { snapshot: stranger } }))).toMatchObject({
      status: 422,
      code: 'tuf.online_key_unknown',
      detail: expect.stringContaining(stranger.keyID),
    });
    // A root key the control plane holds online would let a stolen online key sign root.
    expect(await refusal(root({ onlineKeys: { timestamp: rootKeys[0]!.key } }))).toMatchObject({ status: 422, code: 'tuf.root_shape' });
    expect((await h.admin('GET', '/api/v1/admin/tuf')).body).toMatchObject({ root: null, targets: null, timestamp: null });
    expect((await h.admin('GET', '/api/v1/tuf/metadata/timestamp.json')).status).toBe(404);
  });

  it('is for admins only', async () => {
    const { token } = await createOperatorToken(h.cp.deps.store, silentLogger, { name: 'ops', role: 'operator', by: 'test' });
    const asOperator = await call(`${h.cp.url}/api/v1/admin/tuf/root`, {
      method: 'PUT',
      ca: h.ca,
      headers: { authorization: `Bearer ${token}` },
      json: root(),
    });
    expect(asOperator.status).toBe(403);
    expect((await call(`${h.cp.url}/api/v1/admin/tuf/root`, { method: 'PUT', ca: h.ca, json: root() })).status).toBe(401);
    // An operator may look, not change.
    expect((await call(`${h.cp.url}/api/v1/admin/tuf`, { ca: h.ca, headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('takes root 1, then only a root 2 signed by a threshold of root 1’s keys', async () => {
    expect((await put(root())).body).toEqual({ version: 1, published: ['targets', 'snapshot', 'timestamp'] });
    expect(await refusal(root())).toMatchObject({ status: 409, code: 'tuf.root_version' });
    expect(await refusal(root({ version: 3 }))).toMatchObject({ status: 409, code: 'tuf.root_version' });
    // New root keys that sign themselves, without root 1's threshold: a takeover, refused.
    const usurpers = [newTufSigningKey(), newTufSigningKey()];
    expect(await refusal(root({ version: 2, keys: usurpers }))).toMatchObject({
      status: 422,
      code: 'tuf.root_threshold',
      detail: expect.stringContaining('the current root'),
    });
    // Root 1's keys handing over to new ones: both thresholds signed.
    expect((await put(root({ version: 2, keys: usurpers, signers: [rootKeys[0]!, rootKeys[1]!, ...usurpers] }))).status).toBe(200);
    expect((await h.admin('GET', '/api/v1/admin/tuf')).body.root).toMatchObject({ version: 2, threshold: 2, keyids: usurpers.map((k) => k.key.keyID) });
  });

  it('answers unknown metadata and target names with 404, and bad ones with 400 naming the parameter', async () => {
    expect((await h.admin('GET', '/api/v1/tuf/metadata/9.root.json')).body.code).toBe('tuf.not_found');
    expect((await h.admin('GET', `/api/v1/tuf/targets/fleet/${'0'.repeat(64)}.trust-bundle.json`)).body.code).toBe('tuf.not_found');
    const bad = await h.admin('GET', '/api/v1/tuf/metadata/root.json');
    expect([bad.status, bad.body.code]).toEqual([400, 'request.bad_parameter']);
    expect((await h.admin('GET', '/api/v1/tuf/targets/fleet/not-a-hash.json')).status).toBe(400);
  });
});

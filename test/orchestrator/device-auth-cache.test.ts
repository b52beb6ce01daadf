import { describe, expect, it } from 'vitest';
import { DeviceAuthCache } from '../../orchestrator/http/device-auth-cache.js';
import type { PresentedCertificate } from '../../orchestrator/store/certificates.js';

const presented = (deviceId: string, fingerprint: string, deviceStatus: PresentedCertificate['deviceStatus'] = 'active'): PresentedCertificate => ({
  certificate: {
    fingerprint,
    deviceId,
    serial: fingerprint,
    publicKeySha256: 'k',
    issuerFingerprint: 'ca',
    certificatePem: '',
    state: 'active',
    notBefore: new Date(0),
    notAfter: new Date(8.64e15),
  },
  deviceStatus,
  newerActive: 0,
  olderActive: 0,
});

/** A store lookup that counts its calls and answers from `rows`. */
function lookups(rows: Map<string, PresentedCertificate>) {
  const counter = { calls: 0, load: (fp: string) => async () => (counter.calls++, rows.get(fp)) };
  return counter;
}

describe('device authentication cache', () => {
  it('asks the store once per certificate, and again after its device is forgotten', async () => {
    const rows = new Map([
      ['f1', presented('d1', 'f1')],
      ['f2', presented('d1', 'f2')],
      ['f3', presented('d2', 'f3')],
    ]);
    const store = lookups(rows);
    const cache = new DeviceAuthCache();
    for (const fp of ['f1', 'f1', 'f2', 'f3', 'f3']) await cache.presented(fp, store.load(fp));
    expect(store.calls).toBe(3);
    rows.set('f1', presented('d1', 'f1', 'revoked'));
    cache.forget('d1');
    expect((await cache.presented('f1', store.load('f1')))?.deviceStatus).toBe('revoked');
    await cache.presented('f2', store.load('f2'));
    await cache.presented('f3', store.load('f3'));
    // Both of d1's certificates were asked again; d2's was kept.
    expect(store.calls).toBe(5);
  });

  it('keeps no answer read while anything was forgotten, and no answer for an unknown certificate', async () => {
    const cache = new DeviceAuthCache();
    let release!: () => void;
    const slow = cache.presented('f1', async () => {
      await new Promise<void>((r) => (release = r));
      return presented('d1', 'f1');
    });
    cache.forget('d1');
    release();
    expect((await slow)?.certificate.deviceId).toBe('d1');
    expect(cache.size).toBe(0);
    expect(await cache.presented('nobody', async () => undefined)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('forgets everything at once (notifications lost) and holds at most its bound, oldest out first', async () => {
    const cache = new DeviceAuthCache(2);
    for (const [d, fp] of [
      ['d1', 'f1'],
      ['d2', 'f2'],
      ['d3', 'f3'],
    ] as const)
      await cache.presented(fp, async () => presented(d, fp));
    expect(cache.size).toBe(2);
    let asked = 0;
    await cache.presented('f1', async () => (asked++, presented('d1', 'f1')));
    await cache.presented('f3', async () => (asked++, presented('d3', 'f3')));
    expect(asked).toBe(1);
    cache.forgetAll();
    expect(cache.size).toBe(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr } from '../../runtime/agent/enroll.js';
import { parseWorkloadSpiffeId } from '../../trust/workload/spiffe-id.js';
import { generateP256 } from '../../trust/x509.js';
import { call, startHarness, type Answer, type Harness } from './harness.js';

/**
 * No device id may be an ancestor or a descendant of another's, nor reach into the workload part
 * of a SPIFFE ID: otherwise a CSR naming spiffe://…/device/victim-dev/child onboards as a device
 * "below" victim-dev (issue #12, defect 4). Every method goes through the same check; tokens that
 * pre-assign an id are checked when they are made.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const spiffe = (id: string) => `spiffe://fleet.test/device/${id}`;

/** Onboards with a fresh unbound token and a CSR naming `id`. */
async function onboardNaming(id: string): Promise<Answer> {
  const token = await h.enrollmentToken();
  return call(`${h.cp.url}/api/v1/onboarding`, {
    method: 'POST',
    ca: h.ca,
    json: { method: 'token', token, csr: await createCsr(await generateP256(), spiffe(id)) },
  });
}

/** Onboards with `token` (bound to an id when it was made) and a CSR naming nothing. */
async function onboardBound(token: string): Promise<Answer> {
  return call(`${h.cp.url}/api/v1/onboarding`, { method: 'POST', ca: h.ca, json: { method: 'token', token, csr: await createCsr(await generateP256()) } });
}

function expectNested(answer: Answer): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(409);
  expect(answer.body.code).toBe('onboarding.nested_device_id');
  expect(answer.headers['content-type']).toContain('application/problem+json');
}

describe('device ids never nest', () => {
  it('victim-dev, then victim-dev/child (a CSR naming it) is refused; a sibling is not', async () => {
    // Made while no victim-dev existed: checked again when it is used.
    const bound = await h.enrollmentToken({ deviceId: 'victim-dev/child' });
    expect((await onboardNaming('victim-dev')).status).toBe(201);
    const child = await onboardNaming('victim-dev/child');
    expectNested(child);
    expect(child.body.detail).toContain("'victim-dev'");
    expectNested(await onboardNaming('victim-dev/a/b'));
    expectNested(await onboardBound(bound));
    expect((await onboardNaming('victim-dev-2')).status).toBe(201);
    expect((await onboardNaming('victim-devx/child')).status).toBe(201);
    expect(await deviceIds()).not.toContain('victim-dev/child');
  });

  it('the reverse order: gw/child first, then gw is refused', async () => {
    const bound = await h.enrollmentToken({ deviceId: 'gw' });
    expect((await onboardNaming('gw/child')).status).toBe(201);
    expectNested(await onboardNaming('gw'));
    expectNested(await onboardBound(bound));
    expect((await onboardNaming('gw2')).status).toBe(201);
  });

  it('a refused onboarding gives its token back', async () => {
    const token = await h.enrollmentToken();
    const refused = await call(`${h.cp.url}/api/v1/onboarding`, {
      method: 'POST',
      ca: h.ca,
      json: { method: 'token', token, csr: await createCsr(await generateP256(), spiffe('victim-dev/again')) },
    });
    expectNested(refused);
    const ok = await call(`${h.cp.url}/api/v1/onboarding`, {
      method: 'POST',
      ca: h.ca,
      json: { method: 'token', token, csr: await createCsr(await generateP256(), spiffe('fresh-dev')) },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it('an enrollment token may not pre-assign an id nested with a device', async () => {
    for (const deviceId of ['victim-dev/child', 'gw']) {
      const answer = await h.admin('POST', '/api/v1/admin/enrollment-tokens', { deviceId });
      expectNested(answer);
      expect(answer.body.errors[0].field).toBe('deviceId');
    }
    expect((await h.admin('POST', '/api/v1/admin/enrollment-tokens', { deviceId: 'victim-dev-3' })).status).toBe(201);
  });

  it('no device id reaches into the workload namespace', async () => {
    // Read as a workload SPIFFE ID, this device would be acme/sensor on 'plant'.
    expect(parseWorkloadSpiffeId(spiffe('plant/workload/acme/sensor'))).toMatchObject({ deviceId: 'plant' });
    const answer = await onboardNaming('plant/workload/acme/sensor');
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('csr.bad_san');
    expect((await h.admin('POST', '/api/v1/admin/enrollment-tokens', { deviceId: 'x/workload/acme/sensor' })).status).toBe(422);
    // A 'workload' segment that does not end the id like a workload's part is an ordinary id.
    expect((await onboardNaming('plant/workload/gw-1')).status).toBe(201);
  });
});

async function deviceIds(): Promise<string[]> {
  return (await h.admin('GET', '/api/v1/admin/devices')).body.devices.map((d: { id: string }) => d.id);
}

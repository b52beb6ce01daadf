import { describe, expect, it } from 'vitest';
import { withAuditSink, securityEvent, silentLogger } from '../../common/logger.js';
import { auditPageSchema } from '../../wire/audit.js';
import { harnessWithRoles } from '../deployments/operator-api.js';
import { call } from './harness.js';
import { AuditLog } from '../../orchestrator/audit/audit-log.js';

const api = harnessWithRoles(['operator', 'vendor:acme']);
const operator = api.as('operator');
const vendor = api.as('vendor:acme');

describe('the audit log', () => {
  it("hands a logger's security events, and its children's, to the sink; the caller's logger is left alone", () => {
    const seen: string[] = [];
    const audited = withAuditSink(silentLogger, (event) => seen.push(event));
    securityEvent(audited.child({ part: 'a' }).child({ part: 'b' }), 'device.revoked', { deviceId: 'd-1' });
    securityEvent(silentLogger, 'onboarding.denied');
    expect(seen).toEqual(['device.revoked']);
  });

  it('keeps the security events of operator actions, newest first, pages them, follows them, and filters by event and device', async () => {
    for (const deviceId of ['aud-1', 'aud-2', 'aud-3']) expect((await operator('POST', '/api/v1/admin/enrollment-tokens', { deviceId })).status).toBe(201);
    expect((await operator('POST', '/api/v1/admin/device-revocations', { deviceId: 'aud-2', reason: 'stolen' })).status).toBeLessThan(500);

    const all = await operator('GET', '/api/v1/admin/audit?event=onboarding.token_created');
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    const page = auditPageSchema.parse(all.body);
    expect(page.events.map((e) => e.fields.deviceId)).toEqual(['aud-3', 'aud-2', 'aud-1']);
    expect(page.events[0]).toMatchObject({ event: 'onboarding.token_created', actor: expect.stringMatching(/^operator \(op_/), deviceId: 'aud-3' });
    expect(Date.parse(page.events[0]!.at)).toBeGreaterThan(Date.now() - 60_000);

    const first = auditPageSchema.parse((await operator('GET', '/api/v1/admin/audit?event=onboarding.&limit=2')).body);
    expect(first.events.map((e) => e.fields.deviceId)).toEqual(['aud-3', 'aud-2']);
    expect(first.next).toBe(first.events[1]!.id);
    const second = auditPageSchema.parse((await operator('GET', `/api/v1/admin/audit?event=onboarding.&limit=2&before=${first.next}`)).body);
    expect(second.events.map((e) => e.fields.deviceId)).toEqual(['aud-1']);
    expect(second.next).toBeUndefined();

    const followed = auditPageSchema.parse((await operator('GET', `/api/v1/admin/audit?after=${page.events[2]!.id}`)).body);
    expect(followed.events.map((e) => e.id)).toEqual([...followed.events.map((e) => e.id)].sort((a, b) => a - b));
    expect(followed.events.map((e) => e.event)).toContain('onboarding.token_created');
    expect(followed.next).toBe(followed.events.at(-1)!.id);
    const caughtUp = auditPageSchema.parse((await operator('GET', `/api/v1/admin/audit?after=${followed.next}`)).body);
    expect(caughtUp).toEqual({ events: [], next: followed.next });

    const aboutOne = auditPageSchema.parse((await operator('GET', '/api/v1/admin/audit?deviceId=aud-2')).body);
    expect(aboutOne.events.length).toBeGreaterThan(0);
    expect(aboutOne.events.every((e) => e.deviceId === 'aud-2')).toBe(true);
  });

  it('keeps hostile text as text: U+0000, lone surrogates, huge and cyclic fields are stored cut and cleaned, not a failed insert', async () => {
    const log = new AuditLog(api.h.cp.deps.store, silentLogger);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    log.record('tls.client_certificate_refused', {
      deviceId: 'aud-hostile',
      subject: 'x\u0000y\udc00z',
      by: 'a\u0000b',
      huge: 'h'.repeat(100_000),
      cyclic,
      err: new Error('boom'),
    });
    await log.flush();
    const page = auditPageSchema.parse((await operator('GET', '/api/v1/admin/audit?deviceId=aud-hostile')).body);
    expect(page.events).toHaveLength(1);
    const [e] = page.events;
    expect(e!.fields.subject).toBe('x\ufffdy\ufffdz');
    expect(e!.actor).toBe('a\ufffdb');
    expect(String(e!.fields.huge).length).toBeLessThan(2_100);
    expect(e!.fields.cyclic).toEqual({ name: 'loop', self: '[cycle]' });
    expect(e!.fields.err).toBe('boom');
  });

  it('is for the fleet operators only, and refuses a bad query naming the parameter', async () => {
    expect((await vendor('GET', '/api/v1/admin/audit')).status).toBe(403);
    expect((await call(api.h.cp.url + '/api/v1/admin/audit', { method: 'GET', ca: api.h.ca })).status).toBe(401);
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['before=-1', 'before'],
      ['event=Bad%20Name', 'event'],
      ['deviceId=..', 'deviceId'],
      ['before=5&after=1', 'query'],
      ['colour=red', 'query'],
    ]) {
      const answer = await operator('GET', `/api/v1/admin/audit?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.code).toBe('request.bad_parameter');
      expect(
        answer.body.errors.map((e: { field: string }) => e.field),
        query,
      ).toContain(field);
    }
  });
});

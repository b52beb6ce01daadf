import { Hono } from 'hono';
import type { BerthError } from '../../common/errors.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEnv } from '../../orchestrator/http/env.js';
import { problemResponse, toHttpProblem } from '../../orchestrator/http/problem.js';
import { rateLimit } from '../../orchestrator/http/rate-limit.js';
import { call, startHarness, type Harness } from './harness.js';

describe('rate limit (token bucket per client address)', () => {
  it('lets a burst through, refuses beyond it with Retry-After, refills with time, and keeps clients apart', async () => {
    let t = 0;
    const app = new Hono<AppEnv>();
    app.onError((err, c) => problemResponse(c, toHttpProblem(err as BerthError)));
    app.post(
      '/x',
      rateLimit({ perSecond: 2, burst: 3 }, 'test', 2, () => t),
      (c) => c.text('ok'),
    );
    const from = (address: string) => app.request('/x', { method: 'POST' }, { incoming: { socket: { remoteAddress: address } } } as never);
    for (let i = 0; i < 3; i++) expect((await from('10.0.0.1')).status).toBe(200);
    const refused = await from('10.0.0.1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ status: 429, code: 'request.rate_limited', retryable: true, retryAfterSeconds: 1 });
    // Another address has its own bucket.
    expect((await from('10.0.0.2')).status).toBe(200);
    // Half a second later, one token is back (2 per second).
    t += 500;
    expect((await from('10.0.0.1')).status).toBe(200);
    expect((await from('10.0.0.1')).status).toBe(429);
    // A third address pushes the oldest bucket out (at most 2 kept): 10.0.0.2 starts full again.
    expect((await from('10.0.0.3')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await from('10.0.0.2')).status).toBe(200);
  });
});

describe('the public timestamp authority is rate-limited per address', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ timestampRateLimit: { perSecond: 0.5, burst: 2 } });
  });
  afterAll(async () => h?.stop());

  it('answers the burst, then 429 with Retry-After before it signs anything more', async () => {
    // A malformed query still costs a signed DER answer (RFC 3161 rejection), so it counts too.
    const ask = () =>
      call(`${h.cp.url}/api/v1/timestamp`, { method: 'POST', ca: h.ca, raw: 'not DER', headers: { 'content-type': 'application/timestamp-query' } });
    expect((await ask()).status).toBe(200);
    expect((await ask()).status).toBe(200);
    const refused = await ask();
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.body).toMatchObject({ code: 'request.rate_limited' });
  });
});

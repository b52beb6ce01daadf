import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:https';
import { startRegistry, type TestRegistry } from '../support/registry.js';

function get(url: string, init: { ca?: string; auth?: string } = {}): Promise<{ status: number; headers: Record<string, unknown> }> {
  return fetchLike(url, init);
}

async function fetchLike(url: string, init: { ca?: string; auth?: string }): Promise<{ status: number; headers: Record<string, unknown> }> {
  if (url.startsWith('http:')) {
    const res = await fetch(url, { headers: init.auth ? { authorization: init.auth } : {} });
    await res.arrayBuffer();
    return { status: res.status, headers: Object.fromEntries(res.headers) };
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: init.ca, headers: init.auth ? { authorization: init.auth } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('test registry (docker-registry 2.8)', () => {
  let plain: TestRegistry;
  let secured: TestRegistry;
  beforeAll(async () => {
    [plain, secured] = await Promise.all([startRegistry(), startRegistry({ tls: true, basicAuth: { username: 'vendor', password: 's3cret-pass' } })]);
  });
  afterAll(async () => {
    await Promise.all([plain?.stop(), secured?.stop()]);
  });

  it('serves the distribution API anonymously on loopback', async () => {
    expect(plain.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await get(`${plain.url}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });

  it('asks for basic credentials over TLS from its private CA and accepts the right ones', async () => {
    expect(secured.url.startsWith('https://')).toBe(true);
    const anonymous = await get(`${secured.url}/v2/`, { ca: secured.caPem! });
    expect(anonymous.status).toBe(401);
    expect(String(anonymous.headers['www-authenticate'])).toMatch(/^Basic /);
    const wrong = await get(`${secured.url}/v2/`, { ca: secured.caPem!, auth: 'Basic ' + Buffer.from('vendor:nope').toString('base64') });
    expect(wrong.status).toBe(401);
    const right = await get(`${secured.url}/v2/`, { ca: secured.caPem!, auth: 'Basic ' + Buffer.from('vendor:s3cret-pass').toString('base64') });
    expect(right.status).toBe(200);
  });

  it('is not trusted without its CA', async () => {
    await expect(get(`${secured.url}/v2/`)).rejects.toThrow(/certificate/i);
  });
});

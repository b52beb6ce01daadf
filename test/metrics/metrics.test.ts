import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { createOperatorToken } from '../../orchestrator/admin/tokens.js';
import { DEFAULT_AGENT_METRICS_PORT, parseAgentConfig } from '../../runtime/agent/config.js';
import { PROBLEM_CONTENT_TYPE } from '../../wire/problem.js';
import { fixture, httpGet, startInProcessAgent, startWorld, waitFor, type InProcessAgent, type World } from '../agent/support.js';
import { call } from '../orchestrator/harness.js';
import { parsePrometheusText, type Scrape } from '../support/prometheus.js';

const DAY = 86_400;

/**
 * Both metrics endpoints scraped over real HTTP and parsed (docs/metrics.md): a control plane with
 * its separate plain-HTTP listener, a real registry, and an agent in this process running an HTTP
 * app on its gateway. Run once (jco), not per engine: the figures are the agent's, not the engine's.
 */
describe('Prometheus metrics: the control plane and an agent, scraped and parsed', () => {
  let world: World;
  let agent: InProcessAgent;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    world = await startWorld({ metricsListen: { host: '127.0.0.1', port: 0 }, metricsCacheMs: 0, reconcileIntervalMs: 3_600_000 });
    for (const role of ['operator', 'vendor:acme'])
      tokens[role] = (await createOperatorToken(world.h.cp.deps.store, silentLogger, { name: role.replace(':', ' '), role, by: 'test' })).token;
    await world.publish('web', '1.0.0', fixture('http-server'));
    agent = await startInProcessAgent(world, 'metrics-1', { metrics: { enabled: true, port: 0 } });
    await world.deploy({
      id: 'web-metrics',
      app: 'web',
      version: '1.0.0',
      grants: { 'inbound-http': { route: '/web' }, clocks: {} },
      deviceIds: ['metrics-1'],
    });
    await waitFor(async () => (await world.status('web-metrics')).counts?.installed === 1, 90_000, 'web installed');
    expect(await httpGet(agent.agent.gatewayPort!, '/web/hello')).toEqual({ status: 200, body: 'GET /web/hello ' });
    // The device's polls, kept in memory by the replica, reach the store at a reconcile.
    await world.h.cp.reconciler!.runNow();
  }, 180_000);
  afterAll(async () => {
    await agent?.agent.stop();
    await world?.stop();
  });

  const scrapeControlPlane = async (token: string | undefined) =>
    call(`${world.h.cp.url}/metrics`, { ca: world.h.ca, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('serves the control plane figures to an operator token, with route patterns as labels', async () => {
    await world.h.admin('GET', '/api/v1/no-such-endpoint');
    // The agent long-polls with ?wait=2: one of its parked polls has run out by then.
    await waitFor(() => world.h.cp.desiredState.longPollsEnded.timedOut >= 1, 10_000, 'a long-poll timed out');
    const answer = await scrapeControlPlane(tokens.operator);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = parsePrometheusText(answer.body as string);

    // Requests: by route pattern and status, never by raw path.
    expect(m.types.get('berth_http_requests_total')).toBe('counter');
    expect(m.types.get('berth_http_request_duration_seconds')).toBe('histogram');
    expect(m.value('berth_http_requests_total', { method: 'POST', route: '/api/v1/admin/deployments', status: '201' })).toBeGreaterThanOrEqual(1);
    expect(m.value('berth_http_requests_total', { method: 'GET', route: '/api/v1/admin/deployments/:id/status', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(m.value('berth_http_requests_total', { method: 'GET', route: '/api/v1/deployments', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(m.value('berth_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(m.value('berth_http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/admin/deployments', status: '201' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(m.find('berth_http_requests_total').filter((s) => /web-metrics|metrics-1|no-such/.test(s.labels.route!))).toEqual([]);

    // The fleet, read from the store.
    expect(m.value('berth_fleet_read_up')).toBe(1);
    expect(m.value('berth_devices', { status: 'active' })).toBe(1);
    expect(m.value('berth_devices', { status: 'revoked' })).toBe(0);
    expect(m.value('berth_active_devices', { health: 'healthy' })).toBe(1);
    expect(m.value('berth_device_last_seen_age_seconds_count')).toBe(1);
    expect(m.value('berth_device_last_seen_age_seconds_bucket', { le: '60' })).toBe(1);
    expect(m.value('berth_deployments', { rollout_state: 'none' })).toBe(1);
    expect(m.value('berth_placements', { state: 'installed' })).toBe(1);
    expect(m.value('berth_adoption_lag_seconds_count')).toBe(0);
    // The device's certificate: 30 days by default, so not expired and within the 30-day bucket.
    expect(m.value('berth_device_certificate_expiry_seconds_count')).toBe(1);
    expect(m.value('berth_device_certificate_expiry_seconds_bucket', { le: '0' })).toBe(0);
    expect(m.value('berth_device_certificate_expiry_seconds_bucket', { le: String(30 * DAY) })).toBe(1);
    expect(m.value('berth_onboarding_requests', { status: 'pending' })).toBe(0);
    expect(m.sum('berth_ca_certificate_expiry_timestamp_seconds', { kind: 'root', state: 'active' })).toBeGreaterThan(Date.now() / 1000);
    expect(m.value('berth_catalog_app_versions')).toBe(1);
    for (const role of ['signing_ca', 'timestamp_authority'])
      expect(m.value('berth_fleet_signing_certificate_expiry_timestamp_seconds', { role })).toBeGreaterThan(Date.now() / 1000 + DAY);

    // Admission, verification, store and long-polls, counted by this replica.
    expect(m.value('berth_artifact_admissions_total', { result: 'admitted', code: '' })).toBe(1);
    expect(m.value('berth_artifact_admission_duration_seconds_count', { result: 'admitted' })).toBe(1);
    expect(m.value('berth_artifact_verifications_total', { result: 'unchanged', code: '' })).toBe(1);
    expect(m.value('berth_store_queries_total', { result: 'ok' })).toBeGreaterThan(10);
    expect(m.value('berth_store_transactions_total', { result: 'committed' })).toBeGreaterThan(0);
    expect(m.value('berth_store_info', { kind: 'pglite' })).toBe(1);
    expect(m.value('berth_long_polls_waiting')).toBeGreaterThanOrEqual(0);
    expect(m.find('berth_long_polls_total').map((s) => s.labels.outcome)).toEqual(['woken', 'timed_out', 'cancelled']);
    expect(m.value('berth_long_polls_total', { outcome: 'timed_out' })).toBeGreaterThanOrEqual(1);
    expect(m.value('berth_http_requests_in_flight')).toBeGreaterThanOrEqual(1); // this scrape
  });

  it('counts a refused admission by its code', async () => {
    const refused = await world.h.admin('POST', '/api/v1/catalog/apps/web/versions', {
      version: '9.9.9',
      component: { reference: `oci://${world.registry.host}/acme/web:9.9.9` },
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const m = parsePrometheusText((await scrapeControlPlane(tokens.operator)).body as string);
    const refusals = m.find('berth_artifact_admissions_total', { result: 'refused' });
    expect(refusals.map((s) => [s.labels.code, s.value])).toEqual([[refused.body.code, 1]]);
  });

  it('refuses a scrape without a token (401) and with a vendor token (403), as problem documents', async () => {
    const none = await scrapeControlPlane(undefined);
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
    expect(none.body.code).toBe('auth.missing_token');
    const vendor = await scrapeControlPlane(tokens['vendor:acme']);
    expect(vendor.status).toBe(403);
    expect(vendor.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
    expect(vendor.body.code).toBe('auth.forbidden');
  });

  it('serves the same registry without a token on the separate plain-HTTP listener, and only /metrics there', async () => {
    const listener = world.h.cp.metricsListener!;
    expect(listener.host).toBe('127.0.0.1');
    const res = await fetch(listener.url);
    expect(res.status).toBe(200);
    const m = parsePrometheusText(await res.text());
    expect(m.value('berth_devices', { status: 'active' })).toBe(1);
    expect(m.find('berth_http_requests_total', { route: '/metrics', status: '401' })).toHaveLength(1);
    expect((await fetch(listener.url.replace('/metrics', '/api/v1/admin/devices'))).status).toBe(404);
  });

  it("serves the agent's figures on loopback: per-app memory, CPU, state, restarts, engine, sync and verification", async () => {
    expect(agent.agent.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const scrape = async (): Promise<Scrape> => {
      const res = await fetch(agent.agent.metricsUrl!);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      return parsePrometheusText(await res.text());
    };
    const app = { vendor: 'acme', app: 'web', deployment: 'web-metrics' };
    // Usage reports trail the request a little.
    const m = await waitFor(
      async () => {
        const s = await scrape();
        return s.find('berth_agent_app_cpu_seconds_total', app)[0]?.value ? s : undefined;
      },
      10_000,
      "the request's CPU time in the app usage",
    );
    expect(m.value('berth_agent_app_info', { ...app, version: '1.0.0' })).toBe(1);
    expect(m.value('berth_agent_app_state', { ...app, state: 'running' })).toBe(1);
    expect(m.value('berth_agent_app_state', { ...app, state: 'backoff' })).toBe(0);
    expect(m.value('berth_agent_app_memory_bytes', app)).toBeGreaterThan(0);
    expect(m.value('berth_agent_app_memory_peak_bytes', app)).toBeGreaterThan(0);
    expect(m.value('berth_agent_app_cpu_seconds_total', app)).toBeGreaterThan(0);
    // Payload bytes are messaging and the app's own HTTP calls (docs/accounting.md); this app makes none.
    expect(m.value('berth_agent_app_payload_bytes_total', { ...app, direction: 'in' })).toBe(0);
    expect(m.value('berth_agent_app_payload_bytes_total', { ...app, direction: 'out' })).toBe(0);
    expect(m.value('berth_agent_app_instances_started_total', app)).toBe(1);
    expect(m.value('berth_agent_app_restarts_total', app)).toBe(0);
    expect(m.sum('berth_agent_app_stops_total', { ...app, reason: 'trap' })).toBe(0);
    expect(m.types.get('berth_agent_app_host_calls_total')).toBe('counter');
    expect(m.value('berth_agent_engine_info', { name: agent.agent.runtime.engine.name, fallback: 'false' })).toBe(1);
    expect(m.value('berth_agent_sync_rounds_total', { result: 'adopted' })).toBeGreaterThanOrEqual(1);
    expect(m.value('berth_agent_sync_rounds_total', { result: 'refused' })).toBe(0);
    expect(m.value('berth_agent_adopted_manifest_version')).toBe(agent.agent.adoptedVersion());
    expect(m.value('berth_agent_last_adoption_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(m.value('berth_agent_artifact_verifications_total', { result: 'verified', code: '' })).toBe(1);
    expect(m.value('berth_agent_artifact_verification_duration_seconds_count', { result: 'verified' })).toBe(1);
    expect(m.value('berth_agent_deployments_failed')).toBe(0);
    expect((await fetch(agent.agent.metricsUrl!.replace('/metrics', '/'))).status).toBe(404);
  });

  it("counts a trap as an instance stop with reason trap, and the supervisor's restart", async () => {
    const app = { vendor: 'acme', app: 'web', deployment: 'web-metrics' };
    // The fixture's /trap handler throws: the instance ends with a trap and is started again.
    expect((await httpGet(agent.agent.gatewayPort!, '/web/trap')).status).toBeGreaterThanOrEqual(500);
    const m = await waitFor(
      async () => {
        const s = parsePrometheusText(await (await fetch(agent.agent.metricsUrl!)).text());
        return s.find('berth_agent_app_stops_total', { ...app, reason: 'trap' })[0]?.value === 1 && s.value('berth_agent_app_restarts_total', app) === 1
          ? s
          : undefined;
      },
      15_000,
      'the trap and the restart counted',
    );
    await waitFor(async () => (await httpGet(agent.agent.gatewayPort!, '/web/again')).status === 200, 15_000, 'the app answering again');
    expect(m.value('berth_agent_app_instances_started_total', app)).toBeGreaterThanOrEqual(1);
  });

  it('listens on 127.0.0.1:9465 unless told otherwise; an agent finding that default taken runs without metrics and says so, a port named in its config must be had', async () => {
    const held = await holdPort(DEFAULT_AGENT_METRICS_PORT, 30_000);
    try {
      const second = await startInProcessAgent(world, 'metrics-2');
      try {
        expect(second.config.metrics.port).toBeUndefined();
        expect(second.agent.metricsUrl).toBeUndefined();
        const warning = second.lines.find((l) => l.level === 40 && String(l.msg).startsWith('metrics not served'));
        expect(warning?.msg).toMatch(/the default port 127\.0\.0\.1:9465 is in use.*set metrics\.port/);
        expect(second.lines.some((l) => l.msg === 'device agent started')).toBe(true);
      } finally {
        await second.agent.stop();
      }
      await expect(startInProcessAgent(world, 'metrics-3', { metrics: { port: DEFAULT_AGENT_METRICS_PORT } })).rejects.toMatchObject({
        code: 'agent.metrics',
        message: expect.stringMatching(/cannot listen on 127\.0\.0\.1:9465/),
      });
    } finally {
      await new Promise((done) => held.close(done));
    }
  }, 60_000);

  it('docs/metrics.md names every metric either side exposes, and exposes every metric it names', async () => {
    const exposed = new Set<string>();
    const plane = parsePrometheusText((await scrapeControlPlane(tokens.operator)).body as string);
    const device = parsePrometheusText(await (await fetch(agent.agent.metricsUrl!)).text());
    for (const name of [...plane.types.keys(), ...device.types.keys()]) exposed.add(name);
    const doc = readFileSync(join(import.meta.dirname, '../../docs/metrics.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `(berth_[a-z_]+)` \|/gm)].map((m) => m[1]!));
    expect([...exposed].filter((n) => !documented.has(n))).toEqual([]);
    expect([...documented].filter((n) => !exposed.has(n))).toEqual([]);
    // Every family has its help and a type.
    for (const name of exposed) expect(plane.help.get(name) ?? device.help.get(name), name).toBeTruthy();
  });

  it('refuses an agent metrics configuration that would serve beyond loopback, or is malformed, naming the field', () => {
    const base = { controlPlane: { url: 'https://cp.example:8443', ca: 'ca.pem' }, dataDir: 'data' };
    const refusal = (metrics: Record<string, unknown>): string => {
      try {
        parseAgentConfig({ ...base, metrics });
      } catch (err) {
        expect((err as { code: string }).code).toBe('agent.bad_config');
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal({ enabled: true, host: '0.0.0.0' })).toMatch(/metrics\.host: '0\.0\.0\.0' is not a loopback address.*metrics\.allowNonLoopback/);
    expect(refusal({ enabled: true, port: 70_000 })).toMatch(/metrics\.port/);
    expect(refusal({ enabled: true, listen: '127.0.0.1:9465' })).toMatch(/metrics/);
    expect(parseAgentConfig({ ...base, metrics: { enabled: true, host: '10.0.0.5', allowNonLoopback: true } }).metrics.host).toBe('10.0.0.5');
    // On by default, on loopback; no port written means the default one, which may be given up (below).
    expect(parseAgentConfig(base).metrics).toEqual({ enabled: true, host: '127.0.0.1', allowNonLoopback: false });
    expect(parseAgentConfig({ ...base, metrics: { enabled: true, host: '::1' } }).metrics.host).toBe('::1');
  });
});

/** A listener on 127.0.0.1:`port`, waiting (bounded) while another test's agent holds it. */
async function holdPort(port: number, timeoutMs: number): Promise<Server> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const server = createServer();
    const error = await new Promise<NodeJS.ErrnoException | undefined>((done) => {
      server.once('error', done);
      server.listen(port, '127.0.0.1', () => done(undefined));
    });
    if (!error) return server;
    if (error.code !== 'EADDRINUSE' || Date.now() > deadline) throw error;
    await new Promise((r) => setTimeout(r, 200));
  }
}

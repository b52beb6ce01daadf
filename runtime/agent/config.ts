import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve, dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BerthError } from '../../common/errors.js';
import { isLoopbackHost } from '../../common/metrics-listener.js';
import { engineChoiceSchema, wasmtimeCompilerSchema } from '../../wire/engine.js';
import { deviceIdSchema, macAddressesSchema } from '../../wire/ids.js';
import { capabilityLabelsSchema } from '../../wire/margo/capabilities.js';

/**
 * The device agent's configuration file (docs/agent.md), JSON or YAML. Every field is checked and
 * a bad one is named with its path; unknown fields are refused so a typo never silently falls
 * back to a default.
 */

/** The agent's metrics port when the config names none (the control plane's separate listener is usually 9464). */
export const DEFAULT_AGENT_METRICS_PORT = 9465;

/** Verified components kept beyond those deployed now, most recent first, so a rollback needs no download. */
const retainUnused = z.number().int().min(0).max(100).default(2);

const registrySettings = z.strictObject({
  /** PEM file of a private CA that issued this registry's certificate. */
  ca: z.string().min(1).optional(),
  /** Plain HTTP: allowed only for a registry on the loopback interface. */
  plainHttp: z.boolean().default(false),
  username: z.string().min(1).optional(),
  /** Name of an environment variable holding the password (never the password itself). */
  passwordEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/)
    .optional(),
});

const credential = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('token'), token: z.string().min(1).max(512) }),
  z.strictObject({ kind: z.literal('token-file'), file: z.string().min(1) }),
  z.strictObject({
    kind: z.literal('factory-certificate'),
    certificates: z.string().min(1).describe('PEM file: IDevID leaf first, then manufacturer intermediates'),
    key: z.string().min(1).describe('PEM file of the IDevID private key'),
    macAddresses: macAddressesSchema.optional(),
  }),
]);

export const agentConfigSchema = z.strictObject({
  controlPlane: z.strictObject({
    url: z.url({ protocol: /^https$/ }),
    /** PEM file of the fleet root(s): the server is verified against it from the first contact. */
    ca: z.string().min(1),
  }),
  dataDir: z.string().min(1),
  onboarding: z
    .strictObject({
      credential,
      /** Ask for this device id (the control plane decides). */
      deviceId: deviceIdSchema.optional(),
      maxWaitSeconds: z
        .number()
        .int()
        .min(1)
        .max(30 * 86_400)
        .default(86_400),
    })
    .optional(),
  labels: capabilityLabelsSchema.default({}),
  device: z
    .strictObject({
      vendor: z.string().min(1).max(256).default('berth'),
      modelNumber: z.string().min(1).max(256).default('generic'),
      serialNumber: z.string().min(1).max(256).optional(),
    })
    .default({ vendor: 'berth', modelNumber: 'generic' }),
  artifacts: z
    .discriminatedUnion('source', [
      z.strictObject({ source: z.literal('registry'), registries: z.record(z.string().min(1), registrySettings).default({}), retainUnused }),
      /** The control plane's artifact mirror (docs/mirror.md), over the device's own mutual TLS. */
      z.strictObject({ source: z.literal('mirror'), retainUnused }),
    ])
    .default({ source: 'registry', registries: {}, retainUnused: 2 }),
  gateway: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      enabled: z.boolean().default(true),
    })
    .default({ host: '127.0.0.1', port: 8080, enabled: true }),
  /**
   * Prometheus metrics (docs/metrics.md): a plain-HTTP `GET /metrics` listener, without TLS or a
   * token, so on loopback unless `allowNonLoopback` says the device's network is meant to reach
   * it. On by default, as node exporters are: only this machine can reach it. Without a `port`
   * the agent tries DEFAULT_AGENT_METRICS_PORT and, when another agent on the host holds it,
   * says so and runs without metrics; a port the operator named must be had, or the agent stops.
   */
  /**
   * The fleet's TUF repository (docs/tuf.md): with the sha256 of its root version 1, the device
   * takes its desired-state keys and fleet signing roots only from verified TUF targets.
   */
  tuf: z.strictObject({ rootSha256: z.string().regex(/^[0-9a-f]{64}$/, 'the sha256 of root version 1, 64 lowercase hex digits') }).optional(),
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).optional(),
      allowNonLoopback: z.boolean().default(false),
    })
    .default({ enabled: true, host: '127.0.0.1', allowNonLoopback: false }),
  sync: z
    .strictObject({
      /** Long-poll wait asked of the control plane, seconds (0 = plain polling). */
      longPollSeconds: z.number().int().min(0).max(60).default(30),
      /** Pause between polls, seconds (after a 304 or an adopted change). */
      pollIntervalSeconds: z.number().min(0).max(3600).default(1),
      /** Jittered exponential back-off on errors without a server hint, seconds. */
      backoffInitialSeconds: z.number().min(0.05).max(600).default(1),
      backoffMaxSeconds: z.number().min(0.05).max(3600).default(300),
      /** Renew the certificate at this fraction of its lifetime. */
      renewalFraction: z.number().gt(0).lt(1).default(0.5),
      /** How often app usage is logged, seconds (0 = never). */
      usageLogSeconds: z.number().min(0).max(86_400).default(60),
      /**
       * How often each installed app's usage is reported to the control plane, seconds (0 = only
       * with state changes): its usage history (docs/accounting.md) keeps one sample a minute at most.
       */
      usageReportSeconds: z.union([z.literal(0), z.number().min(1).max(86_400)]).default(300),
      /** With `tuf`: at most this often a sync round also runs a TUF update round (docs/tuf.md), seconds. */
      trustCheckSeconds: z.number().min(1).max(86_400).default(60),
      /** At start, how long to look for refusals in the current desired state before restoring (0 = off). */
      bootCheckSeconds: z.number().min(0).max(60).default(3),
    })
    .default({
      longPollSeconds: 30,
      pollIntervalSeconds: 1,
      backoffInitialSeconds: 1,
      backoffMaxSeconds: 300,
      renewalFraction: 0.5,
      usageLogSeconds: 60,
      usageReportSeconds: 300,
      trustCheckSeconds: 60,
      bootCheckSeconds: 3,
    }),
  nodeLock: z
    .strictObject({
      /** The file whose content identifies this machine (systemd's machine id by default). */
      machineIdFile: z.string().min(1).default('/etc/machine-id'),
    })
    .default({ machineIdFile: '/etc/machine-id' }),
  runtime: z
    .strictObject({
      warmWorkers: z.number().int().min(0).max(64).default(1),
      /**
       * Days the data of an app no adopted deployment names is kept before it is deleted (0 = at
       * the first clean-up): a deployment removed by mistake, or a desired state that briefly
       * names nothing, must not cost an app its data at once.
       */
      removedAppDataDays: z.number().min(0).max(3650).default(7),
      /**
       * The WebAssembly engine (docs/engine.md): `auto` is Wasmtime where its pinned library is
       * found, else jco. Unset, BERTH_ENGINE decides, else `auto`.
       */
      engine: engineChoiceSchema.optional(),
      /** The pinned Wasmtime library file, checked against the pin like any other (docs/engine.md). */
      wasmtimeLibrary: z.string().min(1).optional(),
      /** Wasmtime's compiler: `winch` (default: a new version is compiled ~5x sooner) or `cranelift` (faster code). */
      wasmtimeCompiler: wasmtimeCompilerSchema.optional(),
    })
    .default({ warmWorkers: 1, removedAppDataDays: 7 }),
  /**
   * Last-known-good (docs/agent.md): after an update, the new version is on probation for
   * `windowSeconds` (0 = off); `maxRestarts` restarts within it, or a first start that fails,
   * and the agent goes back to the version before by itself.
   */
  lastKnownGood: z
    .strictObject({
      windowSeconds: z.number().min(0).max(86_400).default(60),
      maxRestarts: z.number().int().min(1).max(1000).default(3),
    })
    .default({ windowSeconds: 60, maxRestarts: 3 }),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type AgentConfig = z.output<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;

/** Checks a parsed configuration; relative paths are taken from `baseDir` (the file's folder). */
export function parseAgentConfig(input: unknown, baseDir = process.cwd()): AgentConfig {
  const result = agentConfigSchema.safeParse(input);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
    throw new BerthError('agent.bad_config', `the agent configuration is invalid: ${fields.join('; ')}`, { fields });
  }
  const c = result.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  c.controlPlane.ca = abs(c.controlPlane.ca);
  c.dataDir = abs(c.dataDir);
  c.nodeLock.machineIdFile = abs(c.nodeLock.machineIdFile);
  if (c.runtime.wasmtimeLibrary) c.runtime.wasmtimeLibrary = abs(c.runtime.wasmtimeLibrary);
  const cred = c.onboarding?.credential;
  if (cred?.kind === 'token-file') cred.file = abs(cred.file);
  if (cred?.kind === 'factory-certificate') {
    cred.certificates = abs(cred.certificates);
    cred.key = abs(cred.key);
  }
  if (c.metrics.enabled && !c.metrics.allowNonLoopback && !isLoopbackHost(c.metrics.host)) {
    throw new BerthError(
      'agent.bad_config',
      `the agent configuration is invalid: metrics.host: '${c.metrics.host}' is not a loopback address; the metrics listener has no TLS and no token, so set metrics.allowNonLoopback: true to serve it there on purpose`,
      { fields: [`metrics.host: not a loopback address`] },
    );
  }
  for (const [host, r] of Object.entries(c.artifacts.source === 'registry' ? c.artifacts.registries : {})) {
    if (r.ca) r.ca = abs(r.ca);
    if (r.plainHttp && !isLoopback(host)) {
      throw new BerthError(
        'agent.bad_config',
        `the agent configuration is invalid: artifacts.registries.${host}.plainHttp: plain HTTP is allowed only for a loopback registry`,
      );
    }
  }
  return c;
}

export function isLoopback(hostPort: string): boolean {
  return isLoopbackHost(hostPort.replace(/:\d+$/, ''));
}

/** Reads a configuration file: YAML (a superset of JSON) by content. */
export async function loadAgentConfig(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BerthError('agent.bad_config', `cannot read the agent configuration ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new BerthError('agent.bad_config', `the agent configuration ${file} is neither JSON nor YAML: ${(err as Error).message}`);
  }
  return parseAgentConfig(parsed, dirname(resolve(file)));
}

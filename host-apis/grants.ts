import { z } from 'zod';
import { BerthError } from '../common/errors.js';

/**
 * The capability vocabulary (DESIGN.md "Capabilities"). A manifest requests, a deployment
 * grants, the runtime enforces: each host API is built from exactly one of these entries.
 */
const topicName = z.string().regex(/^[A-Za-z0-9._-]{1,128}(\/[A-Za-z0-9._-]{1,128})*$/, 'topic names are path-like: letters, digits, . _ - and /');
const origin = z.string().regex(/^(https?):\/\/([A-Za-z0-9.-]+|\*\.[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5}|\*)$/, 'origins are scheme://host:port (host may start with *. and port may be *)');

export const grantSetSchema = z
  .object({
    log: z
      .object({
        /** Lines per second kept on average; more are dropped and counted. */
        linesPerSecond: z.number().int().positive().max(100_000).default(100),
        burst: z.number().int().positive().max(1_000_000).default(200),
      })
      .strict(),
    config: z
      .object({
        values: z.record(z.string().min(1).max(256), z.string().max(64 * 1024)).default({}),
        /** Keys whose values are secrets: readable by the app, never written to any log. */
        secrets: z.array(z.string()).default([]),
      })
      .strict(),
    keyvalue: z.object({ quotaBytes: z.number().int().positive().max(2 ** 40).default(1024 * 1024) }).strict(),
    files: z
      .object({
        quotaBytes: z.number().int().positive().max(2 ** 40).default(16 * 1024 * 1024),
        readOnly: z.boolean().default(false),
      })
      .strict(),
    // HTTP limits (docs/http.md): defaults are safe; the time limits stay below the 30 s host-call bridge timeout.
    'outbound-http': z
      .object({
        allow: z.array(origin).min(1),
        maxRequestBytes: z.number().int().nonnegative().max(64 * 2 ** 20).default(1024 * 1024),
        maxResponseBytes: z.number().int().nonnegative().max(256 * 2 ** 20).default(8 * 1024 * 1024),
        timeoutMs: z.number().int().positive().max(25_000).default(4_000),
      })
      .strict(),
    'inbound-http': z
      .object({
        route: z.string().regex(/^\/[A-Za-z0-9._~\-/]*$/, 'a route prefix is an absolute URL path'),
        maxRequestBytes: z.number().int().nonnegative().max(64 * 2 ** 20).default(1024 * 1024),
        maxResponseBytes: z.number().int().nonnegative().max(256 * 2 ** 20).default(8 * 1024 * 1024),
        timeoutMs: z.number().int().positive().max(120_000).default(10_000),
      })
      .strict(),
    messaging: z
      .object({
        publish: z.array(topicName).max(256).default([]),
        subscribe: z.array(topicName).max(256).default([]),
        // Limits (docs/messaging.md): bound what one app can make the device's broker hold.
        /** Largest payload this app may publish. */
        maxPayloadBytes: z.number().int().positive().max(1024 * 1024).default(64 * 1024),
        /** Messages waiting for this app, at most; further ones are dropped for it and counted. */
        queueMessages: z.number().int().positive().max(65_536).default(256),
        /** Bytes (payloads and topic names) waiting for this app, at most. */
        queueBytes: z.number().int().positive().max(64 * 1024 * 1024).default(1024 * 1024),
      })
      .strict(),
    identity: z.object({ audiences: z.array(z.string().min(1).max(512)).min(1) }).strict(),
    clocks: z.object({}).strict(),
    random: z.object({}).strict(),
  })
  .partial()
  .strict();

export type GrantSet = z.output<typeof grantSetSchema>;
export type GrantName = keyof GrantSet;
export const GRANT_NAMES = Object.keys(grantSetSchema.shape) as GrantName[];

/** Parses grants from any source (deployment JSON, CLI), naming the offending field on failure. */
export function parseGrants(input: unknown): GrantSet {
  const result = grantSetSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'grants';
    throw new BerthError('invalid-grant', `invalid grant ${where}: ${issue.message}`, {
      errors: result.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
    });
  }
  return result.data;
}

/** A copy safe to log: secret config values replaced. */
export function describeGrants(grants: GrantSet): GrantSet {
  if (!grants.config) return grants;
  const secrets = new Set(grants.config.secrets);
  const values = Object.fromEntries(Object.entries(grants.config.values).map(([k, v]) => [k, secrets.has(k) ? '[secret]' : v]));
  return { ...grants, config: { ...grants.config, values } };
}

import { z } from 'zod';

/**
 * The capability vocabulary (DESIGN.md "Capabilities"), both sides' one declaration. A manifest
 * requests, a deployment grants, the runtime enforces: each host API is built from exactly one of
 * these entries. The control plane parses a deployment's grants with `grantSetSchema` at admission,
 * which applies the defaults once; the signed desired state carries the result, and a device reads
 * it with `effectiveGrantSetSchema`, which has no defaults (docs/deployments.md "Grants").
 */
const topicName = z.string().regex(/^[A-Za-z0-9._-]{1,128}(\/[A-Za-z0-9._-]{1,128})*$/, 'topic names are path-like: letters, digits, . _ - and /');
const origin = z
  .string()
  .regex(
    /^(https?):\/\/([A-Za-z0-9.-]+|\*\.[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5}|\*)$/,
    'origins are scheme://host:port (host may start with *. and port may be *)',
  );
/** Body limits of an HTTP grant, the same for requests out (`outbound-http`) and in (`inbound-http`). */
const httpRequestBytes = z
  .number()
  .int()
  .nonnegative()
  .max(64 * 2 ** 20)
  .default(1024 * 1024);
const httpResponseBytes = z
  .number()
  .int()
  .nonnegative()
  .max(256 * 2 ** 20)
  .default(8 * 1024 * 1024);

const grants = {
  log: z.strictObject({
    /** Lines per second kept on average; more are dropped and counted. */
    linesPerSecond: z.number().int().positive().max(100_000).default(100),
    burst: z.number().int().positive().max(1_000_000).default(200),
  }),
  config: z.strictObject({
    values: z.record(z.string().min(1).max(256), z.string().max(64 * 1024)).default({}),
    /** Keys whose values are secrets: readable by the app, never written to any log. */
    secrets: z.array(z.string()).default([]),
  }),
  keyvalue: z.strictObject({
    quotaBytes: z
      .number()
      .int()
      .positive()
      .max(2 ** 40)
      .default(1024 * 1024),
  }),
  files: z.strictObject({
    quotaBytes: z
      .number()
      .int()
      .positive()
      .max(2 ** 40)
      .default(16 * 1024 * 1024),
    readOnly: z.boolean().default(false),
  }),
  // HTTP limits (docs/http.md): defaults are safe; the time limits stay below the 30 s host-call bridge timeout.
  'outbound-http': z.strictObject({
    allow: z.array(origin).min(1),
    maxRequestBytes: httpRequestBytes,
    maxResponseBytes: httpResponseBytes,
    timeoutMs: z.number().int().positive().max(25_000).default(4_000),
  }),
  'inbound-http': z.strictObject({
    route: z.string().regex(/^\/[A-Za-z0-9._~\-/]*$/, 'a route prefix is an absolute URL path'),
    maxRequestBytes: httpRequestBytes,
    maxResponseBytes: httpResponseBytes,
    timeoutMs: z.number().int().positive().max(120_000).default(10_000),
  }),
  messaging: z.strictObject({
    publish: z.array(topicName).max(256).default([]),
    subscribe: z.array(topicName).max(256).default([]),
    // Limits (docs/messaging.md): bound what one app can make the device's broker hold.
    /** Largest payload this app may publish. */
    maxPayloadBytes: z
      .number()
      .int()
      .positive()
      .max(1024 * 1024)
      .default(64 * 1024),
    /** Messages waiting for this app, at most; further ones are dropped for it and counted. */
    queueMessages: z.number().int().positive().max(65_536).default(256),
    /** Bytes (payloads and topic names) waiting for this app, at most. */
    queueBytes: z
      .number()
      .int()
      .positive()
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
  }),
  identity: z.strictObject({ audiences: z.array(z.string().min(1).max(512)).min(1) }),
  clocks: z.strictObject({}),
  random: z.strictObject({}),
};

/** Grants as an operator writes them: every field with a default may be left out. */
export const grantSetSchema = z.strictObject(grants).partial();

export type GrantSet = z.output<typeof grantSetSchema>;
export type GrantName = keyof GrantSet;
export const GRANT_NAMES = Object.keys(grants) as GrantName[];

/** The same grant with every default removed: each field it had a default for is required. */
function withoutDefaults(grant: z.ZodObject): z.ZodObject {
  const shape = Object.fromEntries(Object.entries(grant.shape).map(([field, schema]) => [field, schema instanceof z.ZodDefault ? schema.unwrap() : schema]));
  return z.strictObject(shape);
}

/**
 * Effective grants, as signed to a device: the same fields and bounds as `grantSetSchema`, none
 * defaulted. A device never fills in a value itself, so what a deployment may use is decided by
 * the control plane that admitted it, not by the version of the agent that runs it.
 */
export const effectiveGrantSetSchema = z
  .strictObject(Object.fromEntries(GRANT_NAMES.map((name) => [name, withoutDefaults(grants[name] as z.ZodObject)])))
  .partial() as unknown as z.ZodType<GrantSet, unknown>;

/** Grants with their defaults applied: what admission stores and the desired state signs. */
export function effectiveGrants(input: unknown): GrantSet {
  return grantSetSchema.parse(input);
}

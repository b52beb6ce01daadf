import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { BerthError, errorMessage } from '../../common/errors.js';
import type { RegistryClientOptions } from '../../oci/client.js';

/**
 * How the control plane reaches registries at admission (`berth orchestrator start
 * --registry-config <file>`). Secrets are not written in the file: a password comes from an
 * environment variable or a file of its own. Paths are relative to the config file.
 *
 *   { "registries": { "registry.factory.example": { "ca": "registry-ca.pem", "username": "berth", "passwordEnv": "REGISTRY_PW" },
 *                     "127.0.0.1:5000": { "plainHttp": true } },
 *     "defaults": { "deadlineSeconds": 60 },
 *     "admissionTimeoutSeconds": 120 }
 */
const registrySettings = z.strictObject({
  ca: z.string().min(1).optional(),
  plainHttp: z.boolean().optional(),
  username: z.string().min(1).max(256).optional(),
  passwordEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional(),
  passwordFile: z.string().min(1).optional(),
  deadlineSeconds: z.number().positive().max(3600).optional(),
  idleTimeoutSeconds: z.number().positive().max(3600).optional(),
  attempts: z.number().int().min(1).max(10).optional(),
});
const configSchema = z.strictObject({
  registries: z
    .record(z.string().regex(/^[a-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9a-f:]+\](:[0-9]{1,5})?$/, 'a registry is host[:port], lowercase'), registrySettings)
    .default({}),
  defaults: registrySettings.optional(),
  admissionTimeoutSeconds: z.number().positive().max(3600).optional(),
});

export interface RegistryConfig {
  registries: Record<string, RegistryClientOptions>;
  registryDefaults?: RegistryClientOptions;
  admissionTimeoutMs?: number;
}

export async function loadRegistryConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<RegistryConfig> {
  const bad = (why: string) => new BerthError('config.invalid', `registry config ${path}: ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw bad(errorMessage(err));
  }
  const result = configSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw bad(`${issue.path.join('.') || 'top level'}: ${issue.message}`);
  }
  const base = dirname(resolve(path));
  const options = async (where: string, s: z.output<typeof registrySettings>): Promise<RegistryClientOptions> => {
    const o: RegistryClientOptions = {};
    if (s.ca) o.ca = await readText(resolve(base, s.ca), `${where}.ca`);
    if (s.plainHttp) o.plainHttp = true;
    if (s.deadlineSeconds) o.deadlineMs = s.deadlineSeconds * 1000;
    if (s.idleTimeoutSeconds) o.idleTimeoutMs = s.idleTimeoutSeconds * 1000;
    if (s.attempts) o.attempts = s.attempts;
    if (s.username !== undefined) {
      const password = s.passwordEnv
        ? env[s.passwordEnv]
        : s.passwordFile
          ? (await readText(resolve(base, s.passwordFile), `${where}.passwordFile`)).replace(/\r?\n$/, '')
          : undefined;
      if (password === undefined) throw bad(`${where}: a username needs passwordEnv (set in the environment) or passwordFile`);
      o.credentials = { username: s.username, password };
    }
    return o;
  };
  const config: RegistryConfig = { registries: {} };
  for (const [host, settings] of Object.entries(result.data.registries)) config.registries[host] = await options(`registries.${host}`, settings);
  if (result.data.defaults) config.registryDefaults = await options('defaults', result.data.defaults);
  if (result.data.admissionTimeoutSeconds) config.admissionTimeoutMs = result.data.admissionTimeoutSeconds * 1000;
  return config;

  async function readText(file: string, field: string): Promise<string> {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw bad(`${field}: ${errorMessage(err)}`);
    }
  }
}

import { afterAll, beforeAll } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { createOperatorToken } from '../../orchestrator/admin/tokens.js';
import { call, startHarness, type Answer, type Harness } from '../orchestrator/harness.js';

export type RoleCall = (method: string, path: string, body?: unknown, raw?: string) => Promise<Answer>;

export interface RoleHarness {
  /** The control plane, started before the file's tests and stopped after them. */
  readonly h: Harness;
  /** Calls the operator API as `role` (bearer token over HTTPS); `raw` sends that text as JSON. */
  as(role: string): RoleCall;
  /** The bearer token of `role`, for callers other than `as` (the CLI). */
  token(role: string): string;
}

/** A control plane for one test file with an operator token for each of `roles`. */
export function harnessWithRoles(roles: readonly string[] = ['vendor:acme', 'vendor:globex', 'operator']): RoleHarness {
  let harness: Harness | undefined;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    harness = await startHarness();
    for (const role of roles)
      tokens[role] = (await createOperatorToken(harness.cp.deps.store, silentLogger, { name: role.replace(':', ' '), role, by: 'test' })).token;
  });
  afterAll(async () => {
    await harness?.stop();
  });
  return {
    get h(): Harness {
      if (!harness) throw new Error('the control plane is started in beforeAll: use it inside a hook or a test');
      return harness;
    },
    token: (role) => tokens[role]!,
    as: (role) => (method, path, body, raw) =>
      call(harness!.cp.url + path, {
        method,
        ca: harness!.ca,
        headers: { authorization: `Bearer ${tokens[role]}`, ...(raw !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(raw !== undefined ? { raw } : body === undefined ? {} : { json: body }),
      }),
  };
}

import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { securityEvent, type Logger } from '../../common/logger.js';
import * as tokens from '../store/tokens.js';
import type { Store } from '../store/store.js';
import type { AppEnv } from './env.js';
import { HttpProblem } from './problem.js';
import { NAME_PATTERN } from '../../wire/ids.js';

/** Roles: `admin` (everything), `operator` (devices and onboarding), `vendor:<name>` (its own apps, later). */
export type Role = 'admin' | 'operator' | `vendor:${string}`;
const ROLE = new RegExp(`^(admin|operator|vendor:${NAME_PATTERN.source.slice(1, -1)})$`);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && ROLE.test(value);
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Bearer tokens for operators and vendors. Only the SHA-256 of the secret is stored; the secret
 * has 256 bits of entropy, so an unsalted hash is enough and allows lookup by hash.
 */
export function requireOperator(deps: { store: Store; logger: Logger }, allowed: (role: string) => boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.env.localAdmin === true) {
      // The admin socket is a file only the control plane's user can open: that is the credential.
      c.set('operator', { tokenId: 'local', name: 'local admin socket', role: 'admin' });
      return next();
    }
    const header = c.req.header('authorization');
    const match = header && /^Bearer ([A-Za-z0-9._~+/-]{16,200}=*)$/.exec(header);
    if (!match) {
      throw new HttpProblem(401, 'auth.missing_token', 'A bearer token is required', { detail: 'send Authorization: Bearer <token>' });
    }
    const token = await tokens.findOperatorToken(deps.store, hashSecret(match[1]!));
    if (!token) {
      securityEvent(deps.logger, 'operator.token_refused', { remote: c.env.incoming.socket.remoteAddress, path: c.req.path });
      throw new HttpProblem(401, 'auth.bad_token', 'The bearer token is not valid');
    }
    if (!allowed(token.role)) {
      securityEvent(deps.logger, 'operator.forbidden', { token: token.id, role: token.role, path: c.req.path });
      throw new HttpProblem(403, 'auth.forbidden', "The token's role does not allow this", {
        detail: `role '${token.role}' may not ${c.req.method} ${c.req.path}`,
      });
    }
    c.set('operator', { tokenId: token.id, name: token.name, role: token.role });
    await next();
  };
}

export const roles = {
  admin: (role: string) => role === 'admin',
  operator: (role: string) => role === 'admin' || role === 'operator',
};

/** Who called, as audit events and stored records name them: the token's name and id. */
export function actorOf(operator: { name: string; tokenId: string }): string {
  return `${operator.name} (${operator.tokenId})`;
}

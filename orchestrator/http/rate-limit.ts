import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './env.js';
import { HttpProblem } from './problem.js';

export interface RateLimit {
  /** Sustained requests per second per client address. */
  perSecond: number;
  /** Requests a quiet client may make at once. */
  burst: number;
}

/**
 * A token bucket per client address, for public endpoints whose every request costs the control
 * plane a signature (the timestamp authority): one client cannot take the signing key's time
 * from everyone else. Over the limit: 429 with `Retry-After`. At most `maxClients` buckets are
 * kept (oldest out first), so a flood of addresses costs bounded memory.
 */
export function rateLimit(limit: RateLimit, what: string, maxClients = 10_000, now: () => number = Date.now): MiddlewareHandler<AppEnv> {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return async (c, next) => {
    const client = c.env?.incoming?.socket?.remoteAddress ?? 'local';
    const t = now();
    const previous = buckets.get(client);
    const tokens = previous ? Math.min(limit.burst, previous.tokens + ((t - previous.at) / 1000) * limit.perSecond) : limit.burst;
    buckets.delete(client);
    if (tokens < 1) {
      buckets.set(client, { tokens, at: t });
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - tokens) / limit.perSecond));
      throw new HttpProblem(429, 'request.rate_limited', `Too many ${what} requests`, {
        detail: `at most ${limit.perSecond} per second (bursts of ${limit.burst}) from one address`,
        retryable: true,
        retryAfterSeconds,
      });
    }
    buckets.set(client, { tokens: tokens - 1, at: t });
    while (buckets.size > maxClients) buckets.delete(buckets.keys().next().value!);
    await next();
  };
}

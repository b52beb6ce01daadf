import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { createEnrollmentToken, createOperatorToken } from '../../orchestrator/admin/tokens.js';
import type { Queryable } from '../../orchestrator/store/store.js';

/** Records the rows a token creation writes; the format of the secret is what is under test here. */
const store = { query: async () => [] } as unknown as Queryable;

describe('bearer and enrollment token secrets', () => {
  it('start with berth_, so no token is ever taken for a command-line option', async () => {
    // 200 of each: a bare base64url secret starts with '-' about once in 64 (the retire-version CLI refused one).
    for (let i = 0; i < 200; i++) {
      const { token } = await createOperatorToken(store, silentLogger, { name: 'ci', role: 'admin', by: 'test' });
      expect(token).toMatch(/^berth_[A-Za-z0-9_-]{43}$/);
      const enrollment = await createEnrollmentToken(store, silentLogger, { ttlSeconds: 60, by: 'test' });
      expect(enrollment.token).toMatch(/^berth_[A-Za-z0-9_-]{43}$/);
    }
  });
});

import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startLocalPostgres, type LocalPostgres } from '../../orchestrator/store/local-postgres.js';
import type { StoreLocation } from '../../orchestrator/store/store.js';
import { suiteTempDir } from './tmp.js';

/** A real PostgreSQL server for one test file (orchestrator/store/local-postgres.ts), durability off. */
export type PostgresServer = LocalPostgres;

export const startPostgres = (): Promise<PostgresServer> => startLocalPostgres({ fast: true });

export interface StoreBackends {
  /** `[name, location]` pairs for `describe.each`: PGlite in a folder of its own, and the server. */
  each: [string, () => StoreLocation][];
  /** The PostgreSQL server started for this test file. */
  postgres(): PostgresServer;
}

/**
 * The two store back ends a suite runs the same cases against: PGlite in one scratch folder
 * (the same each time it is asked for, so a case can close and reopen it) and a PostgreSQL
 * server started before the file's tests and stopped after them.
 */
export function storeBackends(name: string): StoreBackends {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });
  let pgliteDir: string | undefined;
  const postgres = (): PostgresServer => {
    if (!server) throw new Error('the PostgreSQL server is started in beforeAll: ask for it inside a hook or a test');
    return server;
  };
  return {
    each: [
      ['pglite', () => ({ kind: 'pglite', dataDir: (pgliteDir ??= join(suiteTempDir(name), 'pglite')) })],
      ['postgres', () => ({ kind: 'postgres', url: postgres().url })],
    ],
    postgres,
  };
}

import { startLocalPostgres, type LocalPostgres } from '../../orchestrator/store/local-postgres.js';

/** A real PostgreSQL server for one test file (orchestrator/store/local-postgres.ts), durability off. */
export type PostgresServer = LocalPostgres;

export const startPostgres = (): Promise<PostgresServer> => startLocalPostgres({ fast: true });

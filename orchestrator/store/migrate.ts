import { BerthError } from '../../common/errors.js';
import { migrations } from './migrations.js';
import type { Store } from './store.js';

/** Any fixed number: every replica takes the same advisory lock so only one migrates at a time. */
const MIGRATION_LOCK = 0x62657274;

/**
 * Applies every migration the store has not seen, each in its own transaction with its version
 * recorded in the same transaction, so a crash leaves the schema at a whole version.
 * A store newer than this code is refused rather than used half-understood.
 */
export async function migrate(store: Store): Promise<number[]> {
  const applied: number[] = [];
  await store.query(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  for (const migration of migrations) {
    const done = await store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const seen = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (seen.length > 0) return false;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  const [latest] = await store.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
  const known = migrations[migrations.length - 1]?.version ?? 0;
  if ((latest?.version ?? 0) > known) {
    throw new BerthError('store.schema_too_new', `the store is at schema version ${latest?.version}, newer than this control plane knows (${known})`);
  }
  return applied;
}

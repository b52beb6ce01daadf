/**
 * The schema, as an append-only list. Never edit a released migration: add the next version.
 * Each statement runs on its own (PGlite's extended protocol takes one statement per query).
 * Later issues add tables (apps, deployments, per-device manifestVersion, status) as new
 * versions that reference `devices(id)`.
 */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'trust: authorities, devices, certificates, tokens, onboarding requests',
    statements: [
      // One row per CA certificate (roots and intermediates). Private keys are never stored here.
      `CREATE TABLE authorities (
         fingerprint text PRIMARY KEY,
         kind text NOT NULL CHECK (kind IN ('root', 'intermediate')),
         certificate_pem text NOT NULL,
         issuer_fingerprint text REFERENCES authorities (fingerprint),
         state text NOT NULL CHECK (state IN ('active', 'retiring', 'retired')),
         not_after timestamptz NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE settings (name text PRIMARY KEY, value jsonb NOT NULL)`,
      `CREATE TABLE devices (
         id text PRIMARY KEY,
         status text NOT NULL CHECK (status IN ('pending', 'active', 'denied', 'revoked')),
         labels jsonb NOT NULL DEFAULT '{}'::jsonb,
         onboarding_method text NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         updated_at timestamptz NOT NULL DEFAULT now(),
         revoked_at timestamptz,
         revoked_reason text)`,
      // Every identifier a device is known by (factory certificate, serial, MAC, ...) maps to one id.
      `CREATE TABLE device_identifiers (
         kind text NOT NULL,
         value text NOT NULL,
         device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
         PRIMARY KEY (kind, value))`,
      `CREATE INDEX device_identifiers_device ON device_identifiers (device_id)`,
      `CREATE TABLE device_certificates (
         fingerprint text PRIMARY KEY,
         device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
         serial text NOT NULL UNIQUE,
         public_key_sha256 text NOT NULL,
         issuer_fingerprint text NOT NULL REFERENCES authorities (fingerprint),
         certificate_pem text NOT NULL,
         state text NOT NULL CHECK (state IN ('active', 'superseded', 'revoked')),
         not_before timestamptz NOT NULL,
         not_after timestamptz NOT NULL,
         issued_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE INDEX device_certificates_device ON device_certificates (device_id, state)`,
      `CREATE TABLE enrollment_tokens (
         id text PRIMARY KEY,
         secret_sha256 text NOT NULL UNIQUE,
         device_id text,
         labels jsonb NOT NULL DEFAULT '{}'::jsonb,
         expires_at timestamptz NOT NULL,
         used_at timestamptz,
         used_by_request text,
         created_by text NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE operator_tokens (
         id text PRIMARY KEY,
         secret_sha256 text NOT NULL UNIQUE,
         name text NOT NULL,
         role text NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         revoked_at timestamptz)`,
      `CREATE TABLE manufacturer_authorities (
         fingerprint text PRIMARY KEY,
         name text NOT NULL UNIQUE,
         certificate_pem text NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now())`,
      // An onboarding that waits for an operator: the device polls it by its unguessable id.
      `CREATE TABLE onboarding_requests (
         id text PRIMARY KEY,
         device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
         method text NOT NULL,
         csr_pem text NOT NULL,
         public_key_sha256 text NOT NULL,
         status text NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
         certificate_fingerprint text REFERENCES device_certificates (fingerprint),
         created_at timestamptz NOT NULL DEFAULT now(),
         decided_at timestamptz,
         decided_by text)`,
    ],
  },
  {
    version: 2,
    name: 'desired state: vendors, apps, versions, deployments, placements, device capabilities, per-device status',
    statements: [
      // trust_policy is kept for the supply-chain admission (issue 5); not interpreted here.
      `CREATE TABLE vendors (
         name text PRIMARY KEY,
         trust_policy jsonb NOT NULL DEFAULT '{}'::jsonb,
         created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE apps (
         id text PRIMARY KEY,
         vendor text NOT NULL REFERENCES vendors (name),
         description text NOT NULL DEFAULT '',
         created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE INDEX apps_vendor ON apps (vendor)`,
      `CREATE TABLE app_versions (
         app_id text NOT NULL REFERENCES apps (id),
         version text NOT NULL,
         repository text NOT NULL,
         digest text NOT NULL,
         size_bytes bigint NOT NULL,
         imports jsonb NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (app_id, version))`,
      // version: what devices run; target_version: what a rolling update moves them to.
      `CREATE TABLE deployments (
         id text PRIMARY KEY,
         app_id text NOT NULL REFERENCES apps (id),
         version text NOT NULL,
         grants jsonb NOT NULL,
         tier text NOT NULL CHECK (tier IN ('instance', 'worker', 'process')),
         limits jsonb,
         parameters jsonb,
         placement jsonb NOT NULL,
         rollout_state text NOT NULL DEFAULT 'none' CHECK (rollout_state IN ('none', 'rolling', 'paused', 'done', 'rolled-back')),
         target_version text,
         previous_version text,
         batch_size integer NOT NULL DEFAULT 1 CHECK (batch_size > 0),
         seq bigserial NOT NULL,
         created_by text NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         updated_at timestamptz NOT NULL DEFAULT now(),
         FOREIGN KEY (app_id, version) REFERENCES app_versions (app_id, version))`,
      `CREATE TABLE placements (
         deployment_id text NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
         device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
         version text NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (deployment_id, device_id))`,
      `CREATE INDEX placements_device ON placements (device_id)`,
      // Written by the device channel (PUT /api/v1/capabilities), read by the scheduler.
      `CREATE TABLE device_capabilities (
         device_id text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
         manifest jsonb NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now())`,
      // Written by the device channel (POST .../status) through deployments/status.ts; version is
      // the app version placed on the device when the report arrived.
      `CREATE TABLE deployment_device_status (
         deployment_id text NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
         device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
         version text NOT NULL,
         state text NOT NULL CHECK (state IN ('pending', 'installing', 'installed', 'failed', 'removing', 'removed')),
         error jsonb,
         components jsonb NOT NULL DEFAULT '[]'::jsonb,
         adopted_manifest_version bigint,
         updated_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (deployment_id, device_id))`,
    ],
  },
  {
    version: 3,
    name: 'device channel: per-device desired state and manifestVersion, content-addressed documents',
    statements: [
      // One row per device, never deleted while the device exists: manifest_version only grows,
      // so a version is never reused, not even after a restart or a deletion of capabilities.
      `CREATE TABLE device_desired_state (
         device_id text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
         manifest_version bigint NOT NULL CHECK (manifest_version >= 1),
         manifest_digest text NOT NULL,
         manifest_bytes bytea NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now())`,
      // ApplicationDeployment YAML and bundles by the digest of their exact bytes: immutable.
      `CREATE TABLE desired_state_documents (
         digest text PRIMARY KEY,
         media_type text NOT NULL,
         bytes bytea NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now())`,
      // Which documents a device may read: those its manifests have named.
      `CREATE TABLE device_documents (
         device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
         digest text NOT NULL REFERENCES desired_state_documents (digest),
         deployment_id text,
         PRIMARY KEY (device_id, digest))`,
    ],
  },
  {
    version: 4,
    name: "placements: the manifestVersion that first carried each placement's current version",
    statements: [
      // A status report adopted from an older manifest is about the version before: not counted.
      `ALTER TABLE placements ADD COLUMN since_manifest_version bigint`,
    ],
  },
  {
    version: 5,
    name: 'app versions: what admission verified (signer, policy and roots fingerprints)',
    statements: [
      // Null for a row admitted before verification existed: every re-check then verifies in full.
      `ALTER TABLE app_versions ADD COLUMN verification jsonb`,
    ],
  },
  {
    version: 6,
    name: 'revocation list: revoked certificates (outliving their device rows) and the published CRLs',
    statements: [
      // Copied at revocation; no foreign key, so a device removed later stays on the CRL until
      // its certificates expire (removing a device must not un-revoke its tokens).
      `CREATE TABLE revoked_certificates (
         serial text PRIMARY KEY,
         issuer_fingerprint text NOT NULL,
         device_id text NOT NULL,
         fingerprint text NOT NULL,
         not_after timestamptz NOT NULL,
         revoked_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE INDEX revoked_certificates_issuer ON revoked_certificates (issuer_fingerprint, not_after)`,
      // One row: the document every replica serves, and the lock every re-issue takes, so CRL
      // numbers only grow and a concurrent revocation on another replica is never left out.
      `CREATE TABLE revocation_list (
         singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
         crl_number bigint NOT NULL,
         issuers jsonb NOT NULL DEFAULT '[]'::jsonb,
         this_update timestamptz,
         next_update timestamptz,
         document text,
         etag text)`,
      `INSERT INTO revocation_list (singleton, crl_number) VALUES (true, 0)`,
    ],
  },
  {
    version: 7,
    name: "scheduler: device health (last poll, healthy/unknown) and the periodic reconcile's watermark",
    statements: [
      // No row: never tracked, counts as healthy. Written by each replica's presence flush and by
      // the reconciler, which marks silent devices unknown (docs/scheduling.md "Health").
      `CREATE TABLE device_health (
         device_id text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
         health text NOT NULL CHECK (health IN ('healthy', 'unknown')),
         last_seen_at timestamptz NOT NULL,
         changed_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE INDEX device_health_changed ON device_health (changed_at)`,
      // One row: when the last reconcile started, by the store's clock (shared by all replicas).
      `CREATE TABLE scheduler_reconciles (
         id integer PRIMARY KEY CHECK (id = 1),
         started_at timestamptz NOT NULL)`,
    ],
  },
  {
    version: 8,
    name: 'revocation list: devices revoked before version 6 are listed too',
    statements: [
      `INSERT INTO revoked_certificates (serial, issuer_fingerprint, device_id, fingerprint, not_after, revoked_at)
       SELECT c.serial, c.issuer_fingerprint, c.device_id, c.fingerprint, c.not_after, coalesce(d.revoked_at, now())
         FROM device_certificates c JOIN devices d ON d.id = c.device_id
        WHERE c.state = 'revoked'
       ON CONFLICT (serial) DO NOTHING`,
      // The next check re-issues the list with them (a list dated before this migration is not trusted to have them).
      `UPDATE revocation_list SET next_update = NULL WHERE singleton`,
    ],
  },
  {
    version: 9,
    name: 'deployment status: the resource usage a device reports with each status (docs/accounting.md)',
    statements: [`ALTER TABLE deployment_device_status ADD COLUMN usage jsonb`],
  },
  {
    version: 10,
    name: 'device authentication: every change to what a presented certificate is allowed to do is announced (NOTIFY berth_device_auth)',
    statements: [
      // Replicas cache the accepted-client lookup (orchestrator/http/device-auth-cache.ts). A
      // trigger, not the code paths that change devices, so no path (nor a later one) can forget
      // to tell them; the payload is the device id, delivered at commit.
      `CREATE FUNCTION berth_device_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM pg_notify('berth_device_auth', OLD.id);
         RETURN NULL;
       END $$`,
      `CREATE FUNCTION berth_device_certificate_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM pg_notify('berth_device_auth', OLD.device_id);
         RETURN NULL;
       END $$`,
      `CREATE TRIGGER devices_auth_changed AFTER UPDATE OF status ON devices
       FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION berth_device_auth_changed()`,
      `CREATE TRIGGER devices_auth_removed AFTER DELETE ON devices FOR EACH ROW EXECUTE FUNCTION berth_device_auth_changed()`,
      `CREATE TRIGGER device_certificates_auth_changed AFTER UPDATE OF state ON device_certificates
       FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION berth_device_certificate_auth_changed()`,
      `CREATE TRIGGER device_certificates_auth_removed AFTER DELETE ON device_certificates FOR EACH ROW EXECUTE FUNCTION berth_device_certificate_auth_changed()`,
    ],
  },
  {
    version: 11,
    name: 'rollouts: why one paused, and when its current wave started and how long it may take (docs/scheduling.md)',
    statements: [
      // {code, message, version, devices, at}; null unless paused.
      `ALTER TABLE deployments ADD COLUMN rollout_reason jsonb`,
      // Set when a wave's devices are moved; a rolling wave older than its timeout pauses the rollout.
      `ALTER TABLE deployments ADD COLUMN wave_started_at timestamptz`,
      `ALTER TABLE deployments ADD COLUMN wave_timeout_seconds integer NOT NULL DEFAULT 900`,
    ],
  },
  {
    version: 12,
    name: 'advisories: vulnerabilities, what they affect and the action taken (docs/vulnerability-response.md)',
    statements: [
      // vendor: the vendor that filed it (its advisory can only affect its own apps); null for an admin's.
      `CREATE TABLE advisories (
         id text PRIMARY KEY,
         summary text NOT NULL,
         severity text NOT NULL CHECK (severity IN ('none', 'low', 'medium', 'high', 'critical')),
         cvss text,
         affected jsonb NOT NULL,
         action text NOT NULL CHECK (action IN ('warn', 'block', 'stop', 'rollback')),
         refs jsonb NOT NULL DEFAULT '[]'::jsonb,
         vendor text REFERENCES vendors (name),
         created_by text NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE INDEX advisories_vendor ON advisories (vendor)`,
    ],
  },
  {
    version: 13,
    name: 'VEX: per advisory and version, whether the version is affected (docs/vulnerability-response.md)',
    statements: [
      // No foreign key to app_versions: a statement may precede the version's admission, and outlive its retirement.
      `CREATE TABLE vex_statements (
         advisory_id text NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
         app_id text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
         version text NOT NULL,
         status text NOT NULL CHECK (status IN ('not_affected', 'affected', 'fixed', 'under_investigation')),
         justification text,
         detail text,
         stated_by text NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (advisory_id, app_id, version))`,
    ],
  },
  {
    version: 14,
    name: 'run history: which version each device ran, from when to when, for exposure reports (docs/vulnerability-response.md)',
    statements: [
      // No foreign keys: the history outlives deployments, versions and devices. digest is null
      // when the version was already retired by the time the device reported it.
      `CREATE TABLE device_app_runs (
         id bigserial PRIMARY KEY,
         device_id text NOT NULL,
         deployment_id text NOT NULL,
         app_id text NOT NULL,
         version text NOT NULL,
         digest text,
         started_at timestamptz NOT NULL DEFAULT now(),
         ended_at timestamptz,
         end_state text,
         end_code text,
         ended_by_version text)`,
      `CREATE INDEX device_app_runs_open ON device_app_runs (device_id, deployment_id) WHERE ended_at IS NULL`,
      `CREATE INDEX device_app_runs_digest ON device_app_runs (digest)`,
      `CREATE INDEX device_app_runs_ended ON device_app_runs (ended_at)`,
      // A trigger, not the report path: every way a status is written (batched reports, tests,
      // later paths) keeps the history. installed opens a run (closing the one it replaces);
      // failed or removed on the running version closes it.
      `CREATE FUNCTION berth_record_run() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE
         open_id bigint;
         open_version text;
       BEGIN
         SELECT id, version INTO open_id, open_version FROM device_app_runs
           WHERE device_id = NEW.device_id AND deployment_id = NEW.deployment_id AND ended_at IS NULL ORDER BY id DESC LIMIT 1;
         IF NEW.state = 'installed' THEN
           IF open_id IS NOT NULL AND open_version = NEW.version THEN RETURN NULL; END IF;
           IF open_id IS NOT NULL THEN
             UPDATE device_app_runs SET ended_at = now(), end_state = 'replaced', ended_by_version = NEW.version WHERE id = open_id;
           END IF;
           INSERT INTO device_app_runs (device_id, deployment_id, app_id, version, digest)
             SELECT NEW.device_id, NEW.deployment_id, d.app_id, NEW.version, v.digest
             FROM deployments d LEFT JOIN app_versions v ON v.app_id = d.app_id AND v.version = NEW.version WHERE d.id = NEW.deployment_id;
         ELSIF NEW.state IN ('failed', 'removed') AND open_id IS NOT NULL AND open_version = NEW.version THEN
           UPDATE device_app_runs SET ended_at = now(), end_state = NEW.state, end_code = NEW.error->>'code' WHERE id = open_id;
         END IF;
         RETURN NULL;
       END $$`,
      `CREATE TRIGGER deployment_device_status_runs AFTER INSERT OR UPDATE ON deployment_device_status
       FOR EACH ROW EXECUTE FUNCTION berth_record_run()`,
      // A placement taken away (a deployment removed, a device moved off it): the device's report
      // of the removal no longer lands, so the run ends when the placement does.
      `CREATE FUNCTION berth_end_run_unplaced() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         UPDATE device_app_runs SET ended_at = now(), end_state = 'unplaced'
           WHERE device_id = OLD.device_id AND deployment_id = OLD.deployment_id AND ended_at IS NULL;
         RETURN NULL;
       END $$`,
      `CREATE TRIGGER placements_end_runs AFTER DELETE ON placements FOR EACH ROW EXECUTE FUNCTION berth_end_run_unplaced()`,
    ],
  },
  {
    version: 15,
    name: "SBOMs: each version's shipped packages from its vendor-signed SBOM, for advisories by purl (docs/sbom.md)",
    statements: [
      `CREATE TABLE app_version_packages (
         app_id text NOT NULL,
         version text NOT NULL,
         package text NOT NULL,
         package_version text NOT NULL,
         PRIMARY KEY (app_id, version, package, package_version),
         FOREIGN KEY (app_id, version) REFERENCES app_versions (app_id, version) ON DELETE CASCADE)`,
      `CREATE INDEX app_version_packages_package ON app_version_packages (package)`,
    ],
  },
  {
    version: 16,
    name: 'The audit log: every security event, kept for operators to read back (docs/audit.md)',
    statements: [
      `CREATE TABLE audit_events (
         id bigserial PRIMARY KEY,
         at timestamptz NOT NULL DEFAULT now(),
         event text NOT NULL,
         actor text,
         device_id text,
         fields jsonb NOT NULL)`,
      `CREATE INDEX audit_events_device ON audit_events (device_id, id) WHERE device_id IS NOT NULL`,
      `CREATE INDEX audit_events_event ON audit_events (event, id)`,
      `CREATE INDEX audit_events_at ON audit_events (at)`,
    ],
  },
  {
    version: 17,
    name: 'rollouts: the wave that moved each placement to the target version, for exact per-wave progress (docs/scheduling.md)',
    statements: [`ALTER TABLE placements ADD COLUMN rollout_wave integer`],
  },
  {
    version: 18,
    name: "usage history: apps' resource use per device over time, sampled from status reports (docs/accounting.md)",
    statements: [
      // A few figures, not the report (up to 64 KiB): what a chart draws, at most one row per
      // device and deployment per minute (store/usage-samples.ts). No foreign keys: like the run
      // history, it outlives deployments and is pruned by age.
      `CREATE TABLE device_usage_samples (
         device_id text NOT NULL,
         deployment_id text NOT NULL,
         at timestamptz NOT NULL DEFAULT now(),
         version text NOT NULL,
         memory_bytes double precision,
         cpu_busy_ms double precision,
         bytes_in double precision,
         bytes_out double precision,
         restarts double precision,
         PRIMARY KEY (device_id, deployment_id, at))`,
      `CREATE INDEX device_usage_samples_at ON device_usage_samples (at)`,
      // A member of a usage report as a number, or null when it is absent or not a number (the
      // device API admits nested objects of numbers, so memory.bytes could be an object).
      `CREATE FUNCTION berth_usage_figure(usage jsonb, path text[]) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
         SELECT CASE WHEN jsonb_typeof(usage #> path) = 'number' THEN (usage #>> path)::double precision END
       $$`,
    ],
  },
  {
    version: 19,
    name: 'TUF repository: metadata by role and version, and the target files it lists (docs/tuf.md)',
    statements: [
      // The exact bytes served (signatures cover them); old versions stay so a client walking
      // the root chain, or reading a snapshot it was just told of, finds them.
      `CREATE TABLE tuf_metadata (
         role text NOT NULL,
         version integer NOT NULL CHECK (version >= 1),
         body text NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (role, version))`,
      `CREATE TABLE tuf_target_files (
         sha256 text NOT NULL,
         path text NOT NULL,
         body text NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (sha256, path))`,
    ],
  },
];

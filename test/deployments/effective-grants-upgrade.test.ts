import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../common/digest.js';
import { silentLogger } from '../../common/logger.js';
import { createDeployment } from '../../orchestrator/deployments/admission.js';
import { storePlacementSource } from '../../orchestrator/deployments/placement-source.js';
import { deploymentBody } from '../../orchestrator/deployments/schema.js';
import { EFFECTIVE_GRANTS_SETTING } from '../../orchestrator/desired-state/effective-grants-upgrade.js';
import type { PlacementSource } from '../../orchestrator/desired-state/placement.js';
import { DesiredStateService } from '../../orchestrator/desired-state/service.js';
import { loadOrCreateSigner } from '../../orchestrator/desired-state/signing-key.js';
import { openStore } from '../../orchestrator/store/store.js';
import { planFromDocument } from '../../runtime/agent/deployment-plan.js';
import { addCatalog, addDevice } from './fixtures.js';
import { offlineAdmission } from '../support/verified-catalog.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-effective-grants-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the renderer did before grants were signed effective: grants exactly as the operator wrote them. */
const asWritten: PlacementSource = {
  placementsForDevice: async (db, id) =>
    (await storePlacementSource.placementsForDevice(db, id)).map((p) => ({ ...p, grants: { log: {} } as typeof p.grants })),
};

describe('upgrading a store whose documents were rendered before effective grants', () => {
  it('the first control plane to start re-renders them once, and the device accepts what it then gets', async () => {
    const store = await openStore({ kind: 'pglite', dataDir: join(dir, 'store') });
    const signer = await loadOrCreateSigner(join(dir, 'pki'));
    const open = (placements: PlacementSource) => DesiredStateService.open({ store, placements, signer, logger: silentLogger, issuer: 'spiffe://fleet.test' });
    const documentOf = async (svc: DesiredStateService) => {
      const m = await svc.manifest('a');
      const named = (JSON.parse(m.bytes.toString('utf8')) as { deployments: { deploymentId: string; digest: Digest }[] }).deployments[0]!;
      return {
        version: m.manifestVersion,
        doc: { deploymentId: named.deploymentId, digest: named.digest, bytes: (await svc.document('a', named.digest))!.bytes },
      };
    };
    try {
      await addCatalog(store);
      await addDevice(store, 'a');
      // The old control plane: its store has no marker, and it renders grants as written.
      const old = await open(asWritten);
      await createDeployment(
        store,
        deploymentBody.parse({ id: 'meter', app: 'sensor', version: '1.0.0', grants: { log: {} } }),
        'test',
        old.changed,
        offlineAdmission(),
      );
      const legacy = await documentOf(old);
      await old.close();
      expect(() => planFromDocument(legacy.doc, 'a')).toThrow(/grants\.log\.linesPerSecond/);
      await store.query('DELETE FROM settings WHERE name = $1', [EFFECTIVE_GRANTS_SETTING]);

      const upgraded = await open(storePlacementSource);
      const now = await documentOf(upgraded);
      expect(now.version).toBeGreaterThan(legacy.version);
      expect(planFromDocument(now.doc, 'a').grants).toEqual({ log: { linesPerSecond: 100, burst: 200 } });
      await upgraded.close();

      // Once: the next start (or another replica) renders nothing again.
      const again = await open(storePlacementSource);
      expect((await documentOf(again)).version).toBe(now.version);
      await again.close();
    } finally {
      await store.close();
    }
  });
});

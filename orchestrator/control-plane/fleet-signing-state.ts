import type { Logger } from '../../common/logger.js';
import {
  loadFleetSigning,
  loadOrCreateFleetSigning,
  retireFleetSigningRoot,
  rotateFleetSigning,
  type FleetSigning,
} from '../../trust/signing/fleet-signing.js';
import { fingerprintOfPem } from '../../trust/signing/roots-fingerprint.js';
import { signingRootsDigest } from '../../trust/signing/roots.js';
import type { FleetSigningRotated, FleetSigningRotation } from '../routes/admin-routes.js';

/**
 * The fleet signing CA and TSA this replica issues, admits and signs with (docs/signing.md):
 * loaded (or made) once, rotated or retired here by the operator, or refreshed when another
 * replica changed them in the shared directory. Whoever uses them is told of every change.
 */
export class FleetSigningState {
  private readonly users: ((next: FleetSigning) => void)[] = [];
  // One change of the signing roots at a time on this replica (each reads what the one before wrote).
  private changes: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private current: FleetSigning,
    private readonly logger: Logger,
  ) {}

  static async open(dir: string, logger: Logger): Promise<FleetSigningState> {
    return new FleetSigningState(dir, await loadOrCreateFleetSigning(dir), logger);
  }

  get signing(): FleetSigning {
    return this.current;
  }

  /** What every desired-state statement names, so devices follow a rotation of the roots. */
  get rootsDigest(): string {
    return signingRootsDigest(this.current.roots);
  }

  /** New fleet signing roots (rotated here or by another replica): issue, admit and sign with them. */
  onChange(use: (next: FleetSigning) => void): void {
    this.users.push(use);
  }

  /** The operator's rotation and retirement (POST /api/v1/admin/signing/…). */
  rotation(): FleetSigningRotation {
    return {
      rotate: async (what) => {
        const rotated = await this.change(() => rotateFleetSigning(this.dir, what));
        return { signingCa: fingerprintOfPem(rotated.ca.certPem), timestampAuthority: fingerprintOfPem(rotated.tsa.certChainPem[0]), ...rootsSummary(rotated) };
      },
      retire: async (fingerprint) => rootsSummary(await this.change(() => retireFleetSigningRoot(this.dir, fingerprint))),
    };
  }

  /** Another replica may have rotated the fleet signing CA or TSA in the shared directory. */
  async refresh(): Promise<void> {
    const onDisk = await loadFleetSigning(this.dir);
    if (onDisk && signingRootsDigest(onDisk.roots) !== this.rootsDigest) {
      this.use(onDisk);
      this.logger.info(
        { signingCas: onDisk.roots.signingCas.length, timestampAuthorities: onDisk.roots.timestampAuthorities.length },
        'fleet signing roots rotated elsewhere; using them',
      );
    }
  }

  private use(next: FleetSigning): void {
    this.current = next;
    for (const use of this.users) use(next);
  }

  private change(change: () => Promise<FleetSigning>): Promise<FleetSigning> {
    const run = this.changes.then(async () => {
      const next = await change();
      this.use(next);
      return next;
    });
    this.changes = run.catch(() => undefined);
    return run;
  }
}

function rootsSummary(next: FleetSigning): Omit<FleetSigningRotated, 'signingCa' | 'timestampAuthority'> {
  return {
    signingCas: next.roots.signingCas.length,
    timestampAuthorities: next.roots.timestampAuthorities.length,
    signingRootsDigest: signingRootsDigest(next.roots),
  };
}

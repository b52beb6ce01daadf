import { BerthError } from '../../common/errors.js';
import type { x509 } from '../x509.js';
import type { RevocationCheck } from '../workload/verify.js';
import { RevocationList, type RevocationListOptions } from './list.js';

/**
 * The list a long-running relying party keeps: replaced by each newer one it fetches, never by
 * an older one (a replayed list from before a revocation is refused with `revocations.rollback`
 * and the held list stays).
 */
export class RevocationListHolder implements RevocationCheck {
  private list: RevocationList | undefined;

  constructor(private readonly options: Omit<RevocationListOptions, 'now'>) {}

  get current(): RevocationList | undefined {
    return this.list;
  }

  async update(document: string, now = new Date()): Promise<RevocationList> {
    const next = await RevocationList.load(document, { ...this.options, now });
    if (this.list) next.assertNotOlderThan(this.list);
    this.list = next;
    return next;
  }

  async check(certificate: x509.X509Certificate, deviceId: string, now: Date): Promise<void> {
    if (!this.list) throw new BerthError('revocations.none', 'revocation list refused: none has been loaded yet');
    await this.list.check(certificate, deviceId, now);
  }
}

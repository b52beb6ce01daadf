import type { Logger } from '../../common/logger.js';
import type { DesiredStateService } from '../desired-state/service.js';
import { loadKeys, rotateSigningKey, type DesiredStateKeyRotation } from '../desired-state/signing-key.js';

export interface DesiredStateKeyControl extends DesiredStateKeyRotation {
  /** Another replica may have rotated the key in the shared key directory: sign with that one. */
  refresh(): Promise<void>;
}

/** The desired-state signing key, kept beside the CA keys (docs/desired-state.md): rotated here or followed. */
export function desiredStateKeyControl(keyDir: string, desiredState: DesiredStateService, logger: Logger): DesiredStateKeyControl {
  return {
    async rotate() {
      const rotated = await rotateSigningKey(keyDir);
      desiredState.useKeys(rotated);
      const answer = { keyId: rotated.signer.keyId, previous: rotated.previous.map((k) => String(k.kid)) };
      logger.info(answer, 'desired-state signing key rotated');
      return answer;
    },
    async refresh() {
      const onDisk = await loadKeys(keyDir);
      if (onDisk && onDisk.signer.keyId !== desiredState.keyId) {
        desiredState.useKeys(onDisk);
        logger.info({ keyId: onDisk.signer.keyId }, 'desired-state signing key rotated elsewhere; signing with it');
      }
    },
  };
}

import { ROLLED_BACK_CODE } from '../../wire/margo/status.js';
import type { DeviceStatusRow } from '../store/deployment-status.js';
import type { RolloutPause } from '../store/deployments.js';

type WaveDevice = { deviceId: string; state: string; error: DeviceStatusRow['error'] };

/** How many devices a pause message names before it says "and N more" (the list has them all). */
const NAMED = 5;

function named(devices: readonly string[]): string {
  const shown = devices
    .slice(0, NAMED)
    .map((d) => `'${d}'`)
    .join(', ');
  return devices.length > NAMED ? `${shown} and ${devices.length - NAMED} more` : shown;
}

/**
 * The reason of a pause for failed devices of the wave on `version`. A device that went back by
 * itself (last-known-good, docs/agent.md) is named as such: its report is Margo's `failed`
 * with the code `agent.rolled_back`, its message saying from what, to what, and why.
 */
export function pauseForFailures(version: string, failed: readonly WaveDevice[]): RolloutPause {
  const rolledBack = failed.filter((f) => f.error?.code === ROLLED_BACK_CODE);
  const at = new Date().toISOString();
  if (rolledBack.length > 0) {
    const first = rolledBack[0]!;
    const devices = rolledBack.map((f) => f.deviceId);
    return {
      code: 'rollout.device_rolled_back',
      version,
      devices,
      at,
      message: `device ${named(devices)} rolled back from ${version} by itself: ${first.error?.message ?? 'no detail'}`,
    };
  }
  const first = failed[0]!;
  const devices = failed.map((f) => f.deviceId);
  const why = [first.error?.code, first.error?.message].filter(Boolean).join(': ') || 'no detail';
  return { code: 'rollout.device_failed', version, devices, at, message: `device ${named(devices)} failed on ${version}: ${why}` };
}

/** The reason of a pause for a wave that outlived its timeout: the devices not installed on `version`. */
export function pauseForTimeout(version: string, silent: readonly WaveDevice[], timeoutSeconds: number): RolloutPause {
  const devices = silent.map((s) => s.deviceId);
  return {
    code: 'rollout.wave_timeout',
    version,
    devices,
    at: new Date().toISOString(),
    message: `the wave to ${version} did not finish within ${timeoutSeconds} s: device ${named(devices)} did not report installed`,
  };
}

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BerthError } from '../../common/errors.js';
import { securityEvent, type Logger } from '../../common/logger.js';
import { readTextFile, writePrivateFile } from '../../trust/key-files.js';
import type { DeviceIdentity } from './identity-files.js';

/**
 * Binds a data directory to the machine it was onboarded on (docs/agent.md, "Node-lock"): a
 * fingerprint of the machine id and the device id, recorded at onboarding next to the key. A data directory copied to another machine (another machine id) does not match,
 * and the agent there refuses to start the first device's workloads or speak for it.
 */
export interface NodeBinding {
  deviceId: string;
  /** SHA-256 over machine id and device id, hex. */
  fingerprint: string;
  recordedAt: string;
}

const bindingPath = (dataDir: string) => join(dataDir, 'node-binding.json');

export async function readMachineId(file: string): Promise<string> {
  const text = await readTextFile(file).catch((err: unknown) => {
    throw new BerthError('agent.no_machine_id', `cannot read the machine id from ${file}: ${(err as Error).message}`);
  });
  const id = text?.trim();
  if (!id) throw new BerthError('agent.no_machine_id', `${file} is missing or empty: the agent binds its data to this machine's id (docs/agent.md)`);
  return id;
}

/**
 * Not the key: renewal replaces key and certificate in one atomic file, and a binding that had
 * to follow it would be a second file a crash could leave behind (docs/agent.md).
 */
function fingerprint(machineId: string, deviceId: string): string {
  return createHash('sha256').update(`berth node binding v1\n${machineId}\n${deviceId}`).digest('hex');
}

/** Records the binding; called once, at onboarding. */
export async function recordBinding(dataDir: string, machineIdFile: string, identity: DeviceIdentity): Promise<void> {
  const machineId = await readMachineId(machineIdFile);
  const binding: NodeBinding = { deviceId: identity.deviceId, fingerprint: fingerprint(machineId, identity.deviceId), recordedAt: new Date().toISOString() };
  await writePrivateFile(bindingPath(dataDir), JSON.stringify(binding, null, 2) + '\n');
}

/**
 * Refuses (`agent.node_lock`, a security event) when the data directory holds an identity but
 * the binding is missing or was made on another machine or for another key.
 */
export async function checkBinding(dataDir: string, machineIdFile: string, identity: DeviceIdentity, logger: Logger): Promise<void> {
  const text = await readTextFile(bindingPath(dataDir));
  const refuse = (why: string): never => {
    securityEvent(logger, 'agent.node_lock', { deviceId: identity.deviceId, reason: why });
    throw new BerthError(
      'agent.node_lock',
      `this data directory belongs to device '${identity.deviceId}' on another machine (${why}); refusing to run its workloads here. Onboard this machine with a fresh data directory.`,
    );
  };
  if (!text) return refuse('no node binding was recorded');
  let binding: NodeBinding;
  try {
    binding = JSON.parse(text) as NodeBinding;
  } catch {
    return refuse('the node binding is unreadable');
  }
  const machineId = await readMachineId(machineIdFile);
  if (binding.deviceId !== identity.deviceId || binding.fingerprint !== fingerprint(machineId, identity.deviceId)) {
    return refuse('the machine id differs from the one recorded at onboarding');
  }
}

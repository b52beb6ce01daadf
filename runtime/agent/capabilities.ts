import { cpus, totalmem, arch } from 'node:os';
import { statfs } from 'node:fs/promises';
import type { DeviceCapabilities } from '../../wire/margo/capabilities.js';
import type { DeviceEngine } from '../../wire/engine.js';
import { TIERS } from '../../wire/tier.js';
import type { AgentConfig } from './config.js';
import { answerError, type ControlPlaneClient } from './control-plane-client.js';

const ARCHITECTURES: Record<string, 'amd64' | 'arm64' | 'arm' | 'riscv64'> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', riscv64: 'riscv64' };

/** Margo quantity in MiB, rounded down (the scheduler compares these with requirements). */
const mebibytes = (bytes: number): string => `${Math.max(0, Math.floor(bytes / (1024 * 1024)))}Mi`;

/**
 * This device's Margo DeviceCapabilitiesManifest: real CPU count and architecture, total
 * memory, the size of the file system holding the data directory, the operator's labels, and
 * the WebAssembly engine its apps run on.
 */
export async function describeDevice(deviceId: string, config: AgentConfig, engine: DeviceEngine): Promise<DeviceCapabilities> {
  const fs = await statfs(config.dataDir);
  return {
    properties: {
      id: deviceId,
      vendor: config.device.vendor,
      modelNumber: config.device.modelNumber,
      serialNumber: config.device.serialNumber ?? deviceId,
      cpus: [{ cores: Math.max(1, cpus().length), architecture: ARCHITECTURES[arch()] ?? 'other' }],
      memory: mebibytes(totalmem()),
      storage: mebibytes(Number(fs.blocks) * Number(fs.bsize)),
      supportedRuntimes: ['custom'],
      supportedDeploymentTypes: ['custom'],
    },
    labels: config.labels,
    'x-berth-extensions': {
      runtime: 'wasm-component',
      tiers: [...TIERS],
      storageAvailable: mebibytes(Number(fs.bavail) * Number(fs.bsize)),
      node: process.version,
      engine,
    },
  };
}

/** `PUT /api/v1/capabilities/{deviceId}`; 200 and 201 are both success. */
export async function reportCapabilities(client: ControlPlaneClient, manifest: DeviceCapabilities, signal?: AbortSignal): Promise<number> {
  const answer = await client.request(`/api/v1/capabilities/${manifest.properties.id}`, { method: 'PUT', json: manifest, signal });
  if (answer.status !== 200 && answer.status !== 201) throw answerError(answer, 'capabilities report');
  return answer.status;
}

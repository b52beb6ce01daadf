import type { DeploymentsListed } from '../wire/deployment.js';
import type { DevicesListed } from '../wire/devices.js';
import type { Operand } from './main.js';
import type { Candidate } from './complete.js';
import type { TargetValues } from './target.js';

/**
 * Operands completed from somewhere else: context names from the config file, device and
 * deployment ids from the control plane the command line would reach (its --context, --url…,
 * else the current context). A shell waits for these, so the control plane gets 2 s.
 */
export const COMPLETION_TIMEOUT_MS = 2000;

export async function operandValues(operand: Operand, values: TargetValues): Promise<Candidate[]> {
  try {
    if (operand === 'context') {
      const { readConfig } = await import('./config.js');
      return Object.entries(readConfig().contexts).map(([value, c]) => ({ value, description: c.url }));
    }
    return await fromControlPlane(operand, values);
  } catch {
    // Not logged in, unreachable, too slow, refused: nothing to offer, and nothing to say mid-line.
    return [];
  }
}

async function fromControlPlane(operand: 'device' | 'deployment', values: TargetValues): Promise<Candidate[]> {
  const [{ adminCall }, { resolveTarget }] = await Promise.all([import('../orchestrator/admin/client.js'), import('./target.js')]);
  const target = await resolveTarget(values);
  const signal = AbortSignal.timeout(COMPLETION_TIMEOUT_MS);
  if (operand === 'device') {
    const { devices }: DevicesListed = await adminCall(target, 'GET', '/api/v1/admin/devices', undefined, { signal });
    return devices.map((d) => ({ value: d.id, description: d.status }));
  }
  const { deployments }: DeploymentsListed = await adminCall(target, 'GET', '/api/v1/admin/deployments', undefined, { signal });
  return deployments.map((d) => ({ value: d.id, description: `${d.appId} ${d.version}` }));
}

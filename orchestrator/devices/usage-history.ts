import { USAGE_SAMPLE_INTERVAL_SECONDS, type UsageHistory, type UsageHistoryQuery } from '../../wire/usage-history.js';
import { unknownDevice } from './unknown-device.js';
import { getDevice } from '../store/devices.js';
import type { Queryable } from '../store/store.js';
import { usageHistoryOf } from '../store/usage-samples.js';

/**
 * A device's apps' resource use over time (docs/accounting.md, "Usage history"). An unknown
 * device is a 404 rather than an empty history, so a mistyped id does not read as "no usage".
 */
export async function deviceUsageHistory(q: Queryable, deviceId: string, query: UsageHistoryQuery): Promise<UsageHistory> {
  if (!(await getDevice(q, deviceId))) throw unknownDevice(deviceId);
  const { samples, truncated } = await usageHistoryOf(q, deviceId, query);
  return { deviceId, intervalSeconds: USAGE_SAMPLE_INTERVAL_SECONDS, samples, truncated };
}

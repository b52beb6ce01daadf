import { z } from 'zod';

/** The isolation boundary around an app (docs/runtime.md); `worker` unless a deployment says otherwise. */
export const TIERS = ['instance', 'worker', 'process'] as const;
export type Tier = (typeof TIERS)[number];
export const DEFAULT_TIER: Tier = 'worker';
export const tierSchema = z.enum(TIERS);

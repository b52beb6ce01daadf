import { z } from 'zod';

/**
 * One wave of a rolling update, as the rollout status answers it (GET …/deployments/{id}/status):
 * exact figures for the waves already moved (their devices are recorded with the placement),
 * and the waves still to come as the devices left over split by the batch size.
 */
export const WAVE_PHASES = ['waiting', 'installing', 'failed', 'done'] as const;
export type WavePhase = (typeof WAVE_PHASES)[number];

export const rolloutWaveSchema = z.object({
  wave: z.number().int().min(1).describe('1 for the first wave of the rollout'),
  devices: z.number().int().describe('Devices in the wave (for a wave to come: as it would be now)'),
  adopted: z.number().int().describe('Of those, the ones that report the target version installed'),
  failed: z.number().int().describe('Of those, the ones that report it failed'),
  phase: z.enum(WAVE_PHASES).describe('waiting: not moved yet; installing; failed: a device failed (the rollout pauses); done: all adopted'),
});
export type RolloutWave = z.infer<typeof rolloutWaveSchema>;

import { z } from 'zod';

/**
 * The admin API of the fleet's TUF repository (docs/tuf.md), as the control plane answers it and
 * `berth tuf` reads it.
 */

/** A TUF public key as metadata spells it (`keytype`, `scheme`, `keyval.public`). */
export const tufKeySchema = z.object({ keytype: z.string(), scheme: z.string(), keyval: z.object({ public: z.string() }) });

/** A fresh online key per role, for the next root to name. */
export const onlineKeySetSchema = z.object({
  keys: z.object({
    targets: z.object({ keyid: z.string(), key: tufKeySchema }),
    snapshot: z.object({ keyid: z.string(), key: tufKeySchema }),
    timestamp: z.object({ keyid: z.string(), key: tufKeySchema }),
  }),
});

export type OnlineKeySet = z.infer<typeof onlineKeySetSchema>;

/** Root metadata as posted: TUF's envelope; the rest is checked by the TUF rules, not by shape. */
export const rootUploadSchema = z.looseObject({
  signed: z.record(z.string(), z.unknown()),
  signatures: z.array(z.looseObject({ keyid: z.string(), sig: z.string() })),
});

export const rootAcceptedSchema = z.object({
  version: z.number().int(),
  /** The online roles re-signed with the keys the root names. */
  published: z.array(z.enum(['targets', 'snapshot', 'timestamp'])),
});
export type RootAccepted = z.infer<typeof rootAcceptedSchema>;

const roleState = z.object({ version: z.number().int(), expires: z.string() }).nullable();

export const tufStatusSchema = z.object({
  root: z.object({ version: z.number().int(), expires: z.string(), threshold: z.number().int(), keyids: z.array(z.string()) }).nullable(),
  targets: roleState,
  snapshot: roleState,
  timestamp: roleState,
  /** The target paths the current targets metadata lists. */
  targetPaths: z.array(z.string()),
});
export type TufStatus = z.infer<typeof tufStatusSchema>;

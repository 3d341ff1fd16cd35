// Schemas of the hub's answers about kept versions, deleted files and KB rounds, as this client
// reads them (the transport is hub-client.ts).
import { z } from 'zod';

/** A kept version on the hub (GET /users/:id/workspace/versions/<path>). */
export const HubVersionSchema = z.object({
  id: z.string(),
  hash: z.string(),
  size: z.number(),
  kept_at: z.string(),
  reason: z.enum(['overwrite', 'delete']),
  /** Who overwrote or deleted it (device name, key label, `agent`, `openwebui`); absent for versions kept before hubs recorded it. */
  origin: z.string().optional().catch(undefined), // a shape this client does not know shows no origin, never fails the listing
});
export type HubVersion = z.infer<typeof HubVersionSchema>;

export const VersionListSchema = z.object({ path: z.string(), versions: z.array(HubVersionSchema) });
/** GET /users/:id/workspace/deleted: paths with kept versions that the workspace no longer holds. */
export const DeletedListSchema = z.object({
  files: z.array(z.object({ path: z.string(), versions: z.array(HubVersionSchema) })),
  truncated: z.boolean().optional(),
});
export type HubDeletedList = z.infer<typeof DeletedListSchema>;

/** The part of a KB round's summary (`POST .../sync`) the client reads. */
export const KbRoundAnswerSchema = z.looseObject({
  deleted_in_openwebui: z.array(z.string()),
  deleted_in_workspace: z.array(z.string()),
  guard: z.string().optional(),
});

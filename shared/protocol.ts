// The hub's wire protocol: types and zod schemas shared by the hub and every client.
import { z } from 'zod';

export const HashSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/);

export const FileEntrySchema = z.object({
  path: z.string(),
  hash: HashSchema,
  size: z.number().int().nonnegative(),
  /** ISO-8601; informational only, never used to decide. */
  modified: z.string(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

export const FileListSchema = z.object({
  /** Feed position at the time of the listing: follow `changes?since=cursor` from here. */
  cursor: z.string(),
  files: z.array(FileEntrySchema),
});
export type FileList = z.infer<typeof FileListSchema>;

export const ChangeSchema = z.object({
  path: z.string(),
  /** Null when the path was deleted. */
  hash: HashSchema.nullable(),
  size: z.number().int().nonnegative().optional(),
  modified: z.string().optional(),
  /** Where the change came from: a client upload, the agent writing into the folder, the KB sync, a restore. */
  source: z.enum(['client', 'agent', 'openwebui', 'restore']).optional(),
  /**
   * Who made the change: the device name a client sent (`X-Youlab-Device`), else the API key's
   * label (else `key:<key id>`); `agent` for writes straight into the workspace folder;
   * `openwebui` for the knowledge-base sync (docs/AGENT.md).
   */
  origin: z.string().optional(),
});
export type Change = z.infer<typeof ChangeSchema>;

export const ChangesSchema = z.object({
  cursor: z.string(),
  changes: z.array(ChangeSchema),
  /** True when `since` is unknown (hub restarted, or too old): the client must list again. */
  reset: z.boolean().optional(),
});
export type Changes = z.infer<typeof ChangesSchema>;

export const MeSchema = z.object({
  user_id: z.string().nullable(),
  service: z.boolean().optional(),
});
export type Me = z.infer<typeof MeSchema>;

export const ErrorBodySchema = z.object({
  error: z.string(),
  message: z.string(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Error codes on the wire, with their HTTP status (docs/ARCHITECTURE.md "Errors on the wire"). */
export const ERROR_STATUS = {
  bad_request: 400,
  bad_path: 400,
  hash_mismatch: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  precondition_required: 428,
  too_large: 413,
  rate_limited: 429,
  quota_exceeded: 507,
  openwebui_unavailable: 503,
  /**
   * Open WebUI answered, but with an error or an answer the hub cannot use (its words in the
   * message); or, signing in with Open WebUI, it could not be reached.
   */
  openwebui_error: 502,
  internal: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export const PutResultSchema = z.object({
  path: z.string(),
  hash: HashSchema,
  size: z.number(),
  modified: z.string(),
});
export type PutResult = z.infer<typeof PutResultSchema>;

/** Request header a client names its device in (percent-encoded UTF-8); the hub records it as the change's `origin`. */
export const DEVICE_HEADER = 'x-youlab-device';

/** Origins the hub gives itself; a device sending one of these names is recorded as `device:<name>`. */
export const RESERVED_ORIGINS = ['agent', 'openwebui'] as const;

/** User ids: directory names under RALPH_USER_DATA_DIR, so no separators or dot-names. */
export const UserIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, 'user id may hold letters, digits, . _ @ -');

export const API_KEY_HEADER = 'authorization';
export const CONTENT_HASH_HEADER = 'x-content-sha256';

// Tolerant shapes of the Open WebUI answers the hub reads, across releases 0.6.x to 0.12.x:
// unknown keys pass through, fields that some releases omit or null are optional.
import { z } from 'zod';

const looseRecord = z.record(z.string(), z.unknown());

export const VersionSchema = z.looseObject({ version: z.string() });

export const OwuiUserSchema = z.looseObject({
  id: z.string(),
  email: z.string().optional(),
  name: z.string().optional(),
  role: z.string().optional(),
});
export type OwuiUser = z.infer<typeof OwuiUserSchema>;

/** `GET /users/{id}`: 0.12.4 answers the user; 0.6.30 only `{name, profile_image_url, active}`. */
export const UserRecordSchema = OwuiUserSchema.partial({ id: true });

/** The admin's user listings, `GET /users/?query=` and `GET /users/all` (every release). */
export const UserListSchema = z.looseObject({ users: z.array(OwuiUserSchema), total: z.number().nullish() });

export const FileMetaSchema = z
  .looseObject({
    name: z.string().nullish(),
    content_type: z.string().nullish(),
    size: z.number().nullish(),
    /** sha256 hex of the raw bytes (0.9.6+). */
    file_hash: z.string().nullish(),
    /** The `metadata` form field sent at upload. */
    data: looseRecord.nullish(),
    collection_name: z.string().nullish(),
  })
  .nullish();

export const FileDataSchema = z
  .looseObject({
    status: z.string().nullish(),
    error: z.string().nullish(),
  })
  .nullish();

export const OwuiFileSchema = z.looseObject({
  id: z.string(),
  user_id: z.string().nullish(),
  /** sha256 of the extracted text: not a content hash. */
  hash: z.string().nullish(),
  filename: z.string().nullish(),
  data: FileDataSchema,
  meta: FileMetaSchema,
  created_at: z.number().nullish(),
  updated_at: z.number().nullish(),
  directory_id: z.string().nullish(),
  directory_path: z.string().nullish(),
});
export type OwuiFile = z.infer<typeof OwuiFileSchema>;

export const KnowledgeSchema = z.looseObject({
  id: z.string(),
  user_id: z.string().nullish(),
  name: z.string(),
  description: z.string().nullish(),
  access_control: z.unknown().optional(),
  access_grants: z.array(z.unknown()).nullish(),
  /** Inlined up to 0.6.41, null since. */
  files: z.array(OwuiFileSchema).nullish(),
});
export type Knowledge = z.infer<typeof KnowledgeSchema>;

/** `{items,total}` (newer) or a plain array (older). */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.union([
    z.array(item).transform((items) => ({ items, total: items.length, paged: false })),
    z
      .looseObject({ items: z.array(item), total: z.number().nullish() })
      .transform((p) => ({ items: p.items, total: p.total ?? p.items.length, paged: true })),
  ]);
}

export const ProcessStatusSchema = z.looseObject({ status: z.string(), error: z.string().nullish() });

export const ErrorDetailSchema = z.looseObject({ detail: z.unknown() });

/** A KB folder (0.9.6+). */
export const DirectorySchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  parent_id: z.string().nullish(),
});
export type Directory = z.infer<typeof DirectorySchema>;

export const DirectoryListingSchema = z.looseObject({ directories: z.array(DirectorySchema).nullish() });

/** One page of one KB folder: its files (ids are enough) and its subfolders. */
export const FolderPageSchema = z.looseObject({
  items: z.array(z.looseObject({ id: z.string() })),
  total: z.number().nullish(),
  directories: z.array(DirectorySchema).nullish(),
});

/**
 * The answer of `POST /knowledge/{id}/files/batch/add` (0.12.4): the KB with every file it now
 * holds. (The route also collects a reason per refused file, but its answer's model has no field
 * for them, so they never arrive.)
 */
export const BatchAddAnswerSchema = z.looseObject({
  files: z.array(z.looseObject({ id: z.string() })),
});

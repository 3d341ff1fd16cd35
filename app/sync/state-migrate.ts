// Version 1 of state.json, written by clients before the state took the hub's style: the same
// content under camelCase keys (`cleanCursor`, `cleanHidden`, cache entries with `mtimeMs`,
// conflicts with `copyPath` / `detectedAt`), and failures as {code, message, hash?, at, retryAt}
// with `retryAt` in epoch ms. Such a file is migrated when read (state.ts `parseState`) and
// written back as version 2 by the next save; nothing in it is lost.
//
// Version 1 kept no attempt count: a migrated failure counts as one attempt. The client's wait
// after a refusal is fixed (step-errors.ts `REFUSED_BACKOFF`), so the count changes no wait, and
// the migrated `next_retry_at` is the very instant `retryAt` named.
import { z } from 'zod';

const SideInfoSchema = z.object({ size: z.number(), modified: z.string(), hash: z.string() });

const V1ConflictSchema = z.object({
  path: z.string(),
  copyPath: z.string(),
  device: z.string(),
  detectedAt: z.string(),
  mine: SideInfoSchema,
  theirs: SideInfoSchema,
});

const V1FailureSchema = z.object({
  code: z.string(),
  message: z.string(),
  hash: z.string().optional(),
  at: z.string(),
  retryAt: z.number(),
});

/** Everything but the two big records (base, cache), which keep their hand-written checks. */
const V1RestSchema = z.object({
  version: z.literal(1),
  conflicts: z.array(V1ConflictSchema),
  failures: z.record(z.string(), V1FailureSchema),
  cleanCursor: z.string().optional(),
  cleanHidden: z.array(z.string()).optional(),
});

/** The largest time a Date holds (ms from the epoch either way). */
const MAX_DATE_MS = 8.64e15;

export function isVersion1(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) && (raw as Record<string, unknown>).version === 1;
}

/**
 * A version 1 state as the version 2 raw object it stands for. Checks what it renames; `base` and
 * the renamed cache are left to the version 2 validation that follows.
 */
export function migrateVersion1(o: Record<string, unknown>): Record<string, unknown> {
  const rest = V1RestSchema.parse(o);
  const out: Record<string, unknown> = {
    version: 2,
    base: o.base,
    cache: migrateCache(o.cache),
    conflicts: rest.conflicts.map((c) => ({ path: c.path, copy_path: c.copyPath, device: c.device, detected_at: c.detectedAt, mine: c.mine, theirs: c.theirs })),
    failures: Object.fromEntries(
      Object.entries(rest.failures).map(([k, f]) => [
        k,
        {
          reason: f.code,
          message: f.message,
          ...(f.hash !== undefined ? { hash: f.hash } : {}),
          attempts: 1,
          failed_at: f.at,
          next_retry_at: new Date(Math.max(-MAX_DATE_MS, Math.min(MAX_DATE_MS, f.retryAt))).toISOString(),
        },
      ]),
    ),
  };
  if (rest.cleanCursor !== undefined) out.clean_cursor = rest.cleanCursor;
  if (rest.cleanHidden !== undefined) out.clean_hidden = rest.cleanHidden;
  return out;
}

/** One pass over up to 100,000 entries: {size, mtimeMs, ino, hash} -> {size, mtime_ms, ino, hash}. */
function migrateCache(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>).map(([k, e]) => {
      if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new Error(`cache[${JSON.stringify(k)}] is not {size, mtimeMs, ino, hash}`);
      const x = e as Record<string, unknown>;
      return [k, { size: x.size, mtime_ms: x.mtimeMs, ino: x.ino, hash: x.hash }];
    }),
  );
}

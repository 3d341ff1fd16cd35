// API keys: `ylk_<id>_<secret>`. Only sha256(key) is stored; lookups go by id and the hash is
// compared in constant time. The CLI writes the file atomically; a running hub notices the
// change within ~250 ms (it re-stats the file at most that often), so revocations bite fast.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../shared/node/atomic-fs.ts';
import { UserIdSchema } from '../../shared/protocol.ts';
import { KeyUsage } from './key-usage.ts';

const KeyRecordSchema = z.object({
  id: z.string(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  label: z.string().default(''),
  user_id: z.string().nullable(),
  service: z.boolean(),
  created: z.string(),
  revoked: z.string().nullable().default(null),
});
export type KeyRecord = z.infer<typeof KeyRecordSchema>;
const KeyFileSchema = z.object({ version: z.literal(1), keys: z.array(KeyRecordSchema) });

/** What a verified key stands for. */
export interface Principal {
  keyId: string;
  userId: string | null;
  service: boolean;
  /** The label given at `keys create --label` ('' when none): the `origin` of changes made with this key. */
  label: string;
}

const KEY_RE = /^ylk_([0-9a-f]{16})_([A-Za-z0-9_-]{20,128})$/;
const RELOAD_CHECK_MS = 250;

export function keysFilePath(dataDir: string): string {
  return join(dataDir, '.youlab-hub', 'keys.json');
}

/** A key as its owner may see it (devices list): never the secret or its hash. */
export interface KeyView {
  id: string;
  device: string;
  user_id: string | null;
  created: string;
  last_used: string | null;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  if (a.length !== b.length || a.length === 0) return false;
  return timingSafeEqual(a, b);
}

export class KeyStore {
  private records: KeyRecord[] = [];
  private fileSig = '';
  private lastCheck = 0;
  readonly usage: KeyUsage;

  constructor(readonly file: string) {
    this.usage = new KeyUsage(join(dirname(file), 'keys-used.json'));
    this.reload(true);
  }

  /** The live (not revoked) user keys of `userId`, oldest first. */
  listForUser(userId: string): KeyView[] {
    return this.list()
      .filter((r) => !r.service && !r.revoked && r.user_id === userId)
      .map((r) => ({ id: r.id, device: r.label, user_id: r.user_id, created: r.created, last_used: this.usage.lastUsed(r.id) }));
  }

  /** Revokes `keyId` only if it is a live key of `userId`; false otherwise (unknown, someone else's, already revoked). */
  async revokeForUser(keyId: string, userId: string): Promise<boolean> {
    let found = false;
    await this.update((records) => {
      const now = new Date().toISOString();
      return records.map((r) => {
        if (r.id !== keyId || r.service || r.user_id !== userId || r.revoked) return r;
        found = true;
        return { ...r, revoked: now };
      });
    });
    return found;
  }

  static forDataDir(dataDir: string): KeyStore {
    return new KeyStore(keysFilePath(dataDir));
  }

  list(): KeyRecord[] {
    this.reload(true);
    return this.records.map((r) => ({ ...r }));
  }

  async create(opts: { userId?: string; service?: boolean; label?: string }): Promise<{ key: string; record: KeyRecord }> {
    if (!opts.service) {
      const uid = UserIdSchema.safeParse(opts.userId);
      if (!uid.success) throw new Error('a valid --user id is required (letters, digits, . _ @ -)');
    }
    const id = randomBytes(8).toString('hex');
    const key = `ylk_${id}_${randomBytes(32).toString('base64url')}`;
    const record: KeyRecord = {
      id,
      hash: hashKey(key),
      label: opts.label ?? '',
      user_id: opts.service ? null : opts.userId!,
      service: Boolean(opts.service),
      created: new Date().toISOString(),
      revoked: null,
    };
    await this.update((records) => [...records, record]);
    return { key, record };
  }

  /** Returns false when no such key id exists. */
  async revoke(keyId: string): Promise<boolean> {
    let found = false;
    await this.update((records) => {
      found = records.some((r) => r.id === keyId);
      return records.map((r) => (r.id === keyId && !r.revoked ? { ...r, revoked: new Date().toISOString() } : r));
    });
    return found;
  }

  /** The principal for a presented key, or undefined for unknown, malformed or revoked keys. */
  verify(key: string | undefined): Principal | undefined {
    if (!key) return undefined;
    this.reload(false);
    const m = KEY_RE.exec(key);
    const presented = hashKey(key);
    const rec = m ? this.records.find((r) => r.id === m[1]) : undefined;
    // Compare even when the id is unknown so timing does not reveal which ids exist.
    const ok = digestsEqual(presented, rec?.hash ?? '0'.repeat(64));
    if (!rec || !ok || rec.revoked) return undefined;
    this.usage.touch(rec.id);
    return { keyId: rec.id, userId: rec.user_id, service: rec.service, label: rec.label };
  }

  /**
   * Read-modify-write of the keys file under an exclusive lock file, so several `keys create`
   * runs (or a CLI beside a hub) never lose each other's keys.
   */
  private async update(change: (records: KeyRecord[]) => KeyRecord[]): Promise<void> {
    const release = await acquireLockFile(`${this.file}.lock`);
    try {
      this.reload(true);
      await this.save(change(this.records));
    } finally {
      await release();
    }
  }

  private async save(records: KeyRecord[]): Promise<void> {
    await writeJsonAtomic(this.file, { version: 1, keys: records });
    // Hashes only, but still nobody else's business.
    await chmod(this.file, 0o600).catch(() => {});
    this.records = records;
    this.fileSig = this.signature();
  }

  private signature(): string {
    try {
      const st = statSync(this.file);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      // no keys file yet (or unreadable): the next read finds out
      return 'absent';
    }
  }

  private reload(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastCheck < RELOAD_CHECK_MS) return;
    this.lastCheck = now;
    const sig = this.signature();
    if (sig === this.fileSig) return;
    if (sig === 'absent') {
      this.records = [];
      this.fileSig = sig;
      return;
    }
    try {
      const parsed = KeyFileSchema.parse(JSON.parse(readFileSync(this.file, 'utf8')));
      this.records = parsed.keys;
      this.fileSig = sig;
    } catch (e) {
      // A corrupt file refuses every key rather than guessing; keep retrying on the next check.
      this.records = [];
      this.fileSig = '';
      if (force) throw new Error(`cannot read keys file ${this.file}: ${(e as Error).message}`);
    }
  }
}

const LOCK_WAIT_MS = 15_000;
/** A lock left by a killed process is taken over after this long (a keys update takes milliseconds). */
const LOCK_STALE_MS = 10_000;

async function acquireLockFile(path: string): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.close();
      return () => unlink(path).catch(() => {}); // the lock file may be gone already (a stale-lock breaker removed it)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > LOCK_STALE_MS) {
        await unlink(path).catch(() => {}); // another process may have broken the stale lock first
        continue;
      }
      if (Date.now() > deadline) throw new Error(`the keys file is locked by another process (${path}); try again`);
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
    }
  }
}

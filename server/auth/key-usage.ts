// When each key was last used. Kept in memory on every authenticated request and written to a
// file beside keys.json at most once a minute (to the minute), so "last used" survives restarts
// without a disk write per request; several hub instances merge by taking the latest time.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeJsonAtomic } from '../../shared/node/atomic-fs.ts';

const UsageFileSchema = z.object({ version: z.literal(1), last_used: z.record(z.string(), z.string()) });
const FLUSH_MS = 60_000;

export class KeyUsage {
  private readonly seen = new Map<string, string>();
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly file: string) {
    for (const [id, at] of Object.entries(this.readFile())) this.seen.set(id, at);
  }

  /** Record a use now (minute precision: nobody needs more, and it keeps writes rare). */
  touch(keyId: string): void {
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    if (this.seen.get(keyId) === at) return;
    this.seen.set(keyId, at);
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => {
        this.dirty = true; // a failed write is retried with the next use
      });
    }, FLUSH_MS).unref();
  }

  lastUsed(keyId: string): string | null {
    return this.seen.get(keyId) ?? null;
  }

  async flush(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const merged = this.readFile();
    for (const [id, at] of this.seen) if (!merged[id] || merged[id] < at) merged[id] = at;
    await writeJsonAtomic(this.file, { version: 1, last_used: merged });
  }

  private readFile(): Record<string, string> {
    try {
      return UsageFileSchema.parse(JSON.parse(readFileSync(this.file, 'utf8'))).last_used;
    } catch {
      // absent or unreadable: "last used" is informational, start from nothing
      return {};
    }
  }
}

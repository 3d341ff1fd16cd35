// An agent that writes a file in several flushed pieces with pauses between them, so a watcher
// sees it change while it is still being written.
import { open } from 'node:fs/promises';

/** Writes `line 0\n` .. `line <n-1>\n`, fsyncing and pausing `gapMs` after each; returns the whole content. */
export async function writeSlowly(abs: string, lines = 5, gapMs = 60): Promise<string> {
  const fh = await open(abs, 'w');
  try {
    for (let i = 0; i < lines; i++) {
      await fh.write(`line ${i}\n`);
      await fh.sync();
      await new Promise((r) => setTimeout(r, gapMs));
    }
  } finally {
    await fh.close();
  }
  return Array.from({ length: lines }, (_, i) => `line ${i}\n`).join('');
}

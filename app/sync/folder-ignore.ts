// The client's ignore rules for its folder (docs/SYNC-SPEC.md "Ignore rules"): the defaults, the
// user's own patterns (config.yaml `ignore`) and the folder's `.youlabignore`, the workspace's
// shared rule file, which syncs like any other file. The file is read again before every round,
// so a change to it (made here or arriving from the hub) takes effect at the next round. The
// scanner, the watcher, the feed follower and the clean cursor all hold this one object.
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createIgnore, MAX_IGNORE_FILE_BYTES, parseIgnoreFile, YOULABIGNORE, type IgnoreMatcher } from '../../shared/ignore-rules.ts';

export class FolderIgnore implements IgnoreMatcher {
  private matcher: IgnoreMatcher;
  /** The file's text the rules were built from ('' for no file). */
  private text = '';

  constructor(
    private readonly folder: string,
    private readonly userPatterns: readonly string[],
    private readonly log: (line: string) => void = () => {},
  ) {
    this.matcher = createIgnore(userPatterns);
  }

  ignores(path: string, isDir?: boolean): boolean {
    return this.matcher.ignores(path, isDir);
  }

  /** Read `.youlabignore` again; true when the rules changed. */
  async refresh(): Promise<boolean> {
    const text = await this.read();
    if (text === undefined || text === this.text) return false;
    this.text = text;
    const { patterns, errors } = parseIgnoreFile(text);
    for (const e of errors) this.log(`${YOULABIGNORE}: rule left out: ${e}`);
    this.matcher = createIgnore(this.userPatterns, patterns);
    return true;
  }

  /** The file's text, '' when there is none to use, undefined when it cannot be read right now. */
  private async read(): Promise<string | undefined> {
    const path = join(this.folder, YOULABIGNORE);
    try {
      // Never followed, like every symlink in the folder (the scanner skips them).
      const st = await lstat(path);
      if (!st.isFile()) return '';
      if (st.size > MAX_IGNORE_FILE_BYTES) {
        this.log(`${YOULABIGNORE} is over ${MAX_IGNORE_FILE_BYTES} bytes: its rules are not used`);
        return '';
      }
      return await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return '';
      // Unreadable for now (permissions, a share gone away): the rules stay as they were.
      return undefined;
    }
  }
}

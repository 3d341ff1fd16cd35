// Ignore rules: docs/SYNC-SPEC.md defaults plus user patterns in gitignore syntax, via the `ignore` package.
import ignore from 'ignore';

export const DEFAULT_IGNORES = [
  '.git/',
  'node_modules/',
  '__pycache__/',
  '.DS_Store',
  'Thumbs.db',
  '*.tmp',
  '*.swp',
  '~$*',
  '.~lock.*',
  '*.part',
  '*.crdownload',
] as const;

export interface IgnoreMatcher {
  /** True when the relative path (or any of its parent folders) is ignored. */
  ignores(path: string, isDir?: boolean): boolean;
}

export function createIgnore(userPatterns: readonly string[] = []): IgnoreMatcher {
  const ig = ignore().add([...DEFAULT_IGNORES, ...userPatterns]);
  return {
    ignores(path: string, isDir = false) {
      return ig.ignores(isDir ? `${path}/` : path);
    },
  };
}

/** Check user patterns; returns one message per bad line (empty when all are valid). */
export function validateIgnorePatterns(patterns: readonly string[]): string[] {
  const errors: string[] = [];
  patterns.forEach((p, i) => {
    if (p.trim() === '' || p.startsWith('#')) return;
    if (p.includes('\0')) errors.push(`line ${i + 1}: NUL character`);
    else if (/(^|\/)\.\.(\/|$)/.test(p)) errors.push(`line ${i + 1}: '..' cannot match inside the folder`);
    else {
      try {
        ignore().add(p).ignores('probe');
      } catch (e) {
        errors.push(`line ${i + 1}: ${(e as Error).message}`);
      }
    }
  });
  return errors;
}

// Ignore rules: docs/SYNC-SPEC.md defaults plus user patterns in gitignore syntax, via the `ignore`
// package; and the `.youlabignore` file at a workspace root, whose rules the hub's KB leg and every
// client add to their own (docs/SYNC-SPEC.md "Ignore rules").
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

/** The workspace's own ignore file, at its root; it syncs like any other file. */
export const YOULABIGNORE = '.youlabignore';

/** A `.youlabignore` larger than this is not read (its rules do not apply): no sensible rule list is that long. */
export const MAX_IGNORE_FILE_BYTES = 256 * 1024;

export interface IgnoreMatcher {
  /** True when the relative path (or any of its parent folders) is ignored. */
  ignores(path: string, isDir?: boolean): boolean;
}

/**
 * A client's rules. The `.youlabignore` patterns come first, so the defaults after them still
 * hold (a shared file cannot make a client sync `.git/`); the user's own patterns come last and
 * may re-include anything, as before.
 */
export function createIgnore(userPatterns: readonly string[] = [], filePatterns: readonly string[] = []): IgnoreMatcher {
  const ig = ignore().add([...filePatterns, ...DEFAULT_IGNORES, ...userPatterns]);
  return {
    ignores(path: string, isDir = false) {
      return ig.ignores(isDir ? `${path}/` : path);
    },
  };
}

/** One group of patterns and the name reported for a path it ignores (`default`, `.youlabignore`). */
export interface RuleGroup {
  source: string;
  patterns: readonly string[];
}

export interface RuleMatcher {
  /** `<source>: <pattern>` of the rule that ignores the path (the last one that matches, as `git check-ignore -v`), or undefined. */
  ruleFor(path: string, isDir?: boolean): string | undefined;
}

/** Groups in order; later patterns win, so a later group's `!pattern` may re-include what an earlier one ignores. */
export function createRuleMatcher(groups: readonly RuleGroup[]): RuleMatcher {
  const ig = ignore().add(groups.flatMap((g) => g.patterns.map((pattern) => ({ pattern, mark: g.source }))));
  return {
    ruleFor(path: string, isDir = false) {
      const rule = ig.test(isDir ? `${path}/` : path).rule;
      return rule ? `${rule.mark ?? 'rule'}: ${rule.pattern}` : undefined;
    },
  };
}

/**
 * The patterns of an ignore file's text: blank lines and comments dropped, a line the rules
 * refuse (`validateIgnorePatterns`) left out and reported, so one bad line costs only itself.
 */
export function parseIgnoreFile(text: string): { patterns: string[]; errors: string[] } {
  const patterns: string[] = [];
  const errors: string[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '' || line.startsWith('#')) return;
      const bad = validateIgnorePatterns([line]);
      if (bad.length > 0) errors.push(...bad.map((m) => m.replace(/^line 1:/, `line ${i + 1}:`)));
      else patterns.push(line);
    });
  return { patterns, errors };
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

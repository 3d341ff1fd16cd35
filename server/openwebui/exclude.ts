// Pure: which workspace paths never go to the knowledge base, and the rule that says so
// (docs/SYNC-SPEC.md "Hub and knowledge base", "Only what belongs in a KB"). The defaults, the
// workspace's `.youlabignore`, virtualenvs found by their pyvenv.cfg, and a size limit. The
// extension allowlist (plan.ts `extensionAllowed`) applies after these, as before. No I/O here:
// kb-ignore-file.ts reads `.youlabignore`; the list of why each default is here is in README.md.
import { createRuleMatcher, YOULABIGNORE } from '../../shared/ignore-rules.ts';

/**
 * Default rules of the hub -> KB leg, gitignore syntax. Where several match, the last one is
 * reported, so the generic `*.lock` comes before the named lock files.
 */
export const KB_DEFAULT_EXCLUDES: readonly string[] = [
  // Hidden files and folders: tool configs, editor state, secrets (.env), and every dot-folder
  // below (HIDDEN_FOLDERS names the usual ones in the report).
  '.*',
  // Lock files: generated dependency pins, no knowledge in them.
  '*.lock',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  // Dependencies.
  'node_modules/',
  'bower_components/',
  'site-packages/',
  // A Python virtualenv by its usual name (any folder holding a pyvenv.cfg is one too).
  'venv/',
  // Build output and tool caches.
  '__pycache__/',
  'dist/',
  'build/',
  'target/',
  'coverage/',
  'htmlcov/',
];

/**
 * Hidden folders that `.*` already leaves out, named in the report as `default: .git/` rather
 * than `default: .*`. Not rules of their own: `.*` covers them already, and every rule is one
 * more test for each of the workspace's paths in every round.
 */
export const HIDDEN_FOLDERS: ReadonlySet<string> = new Set([
  '.git', '.svn', '.hg', // version control
  '.venv', // virtualenv
  '.npm', '.pnpm-store', '.yarn', // package manager stores
  '.cache', '.next', '.turbo', '.gradle', '.tox', '.nox', '.mypy_cache', '.pytest_cache', '.ruff_cache', '.ipynb_checkpoints', // build and tool caches
]);

/** Why a path stays out of the KB, or undefined when it may go (subject to the extension allowlist). */
export interface KbExclusion {
  ruleFor(path: string): string | undefined;
}

export interface KbExclusionInput {
  /** The workspace listing: its paths mark virtualenvs, its sizes meet the size limit. */
  files: readonly { path: string; size: number }[];
  /** The patterns of the workspace's `.youlabignore` (shared/ignore-rules.ts `parseIgnoreFile`). */
  youlabignore: readonly string[];
  /** Largest file sent to the KB (RALPH_SYNC_MAX_KB_FILE_BYTES); 0 or absent: no limit. */
  maxFileBytes?: number | undefined;
}

/**
 * The rules of one round. Order: `.youlabignore` itself, then the default and `.youlabignore`
 * patterns as one gitignore list (so a `!build/` in the file re-includes what a default leaves
 * out), then virtualenvs (which no pattern re-includes: a pyvenv.cfg proves what the folder is),
 * then the size limit. A KB-only path has no size here, so the limit applies to workspace files.
 */
export function kbExclusion(input: KbExclusionInput): KbExclusion {
  const rules = createRuleMatcher([
    { source: 'default', patterns: KB_DEFAULT_EXCLUDES },
    { source: YOULABIGNORE, patterns: input.youlabignore },
  ]);
  const venvs = virtualenvFolders(input.files.map((f) => f.path));
  const max = input.maxFileBytes ?? 0;
  const sizes = max > 0 ? new Map(input.files.map((f) => [f.path, f.size])) : undefined;
  return {
    ruleFor(path) {
      if (path === YOULABIGNORE) return `default: ${YOULABIGNORE}`;
      const rule = rules.ruleFor(path);
      if (rule === HIDDEN) return hiddenFolder(path) ?? rule;
      if (rule) return rule;
      const venv = enclosingFolder(path, venvs);
      if (venv !== undefined) return `default: virtualenv ${venv}/ (holds pyvenv.cfg)`;
      const size = sizes?.get(path);
      if (size !== undefined && size > max) return `too large: over ${max} bytes`;
      return undefined;
    },
  };
}

/**
 * Folders that are Python virtualenvs, whatever their name: each holds a pyvenv.cfg (what
 * `python -m venv`, virtualenv 20+ and uv write). The listing names every file, so this costs one
 * pass over the paths and no extra reads. A pyvenv.cfg at the workspace root marks nothing: the
 * workspace itself is never left out.
 */
export function virtualenvFolders(paths: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const p of paths) {
    if (p.endsWith('/pyvenv.cfg')) out.add(p.slice(0, -'/pyvenv.cfg'.length));
  }
  return out;
}

const HIDDEN = 'default: .*';

/** `default: <name>/` for the first hidden folder of `path` when it is one of HIDDEN_FOLDERS. */
function hiddenFolder(path: string): string | undefined {
  const folders = path.split('/').slice(0, -1);
  const first = folders.find((name) => name.startsWith('.'));
  return first !== undefined && HIDDEN_FOLDERS.has(first.toLowerCase()) ? `default: ${first}/` : undefined;
}

/** The outermost folder of `path` that is in `folders`, or undefined. */
function enclosingFolder(path: string, folders: ReadonlySet<string>): string | undefined {
  if (folders.size === 0) return undefined;
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const dir = path.slice(0, i);
    if (folders.has(dir)) return dir;
  }
  return undefined;
}

// Lint runs as part of `npm test`. Besides style, it keeps the layer order of docs/ARCHITECTURE.md
// ("Dependency rules"): each block below bans the imports that would point the wrong way. A later
// block's `no-restricted-imports` replaces an earlier one for the files it matches, so every block
// lists its full set of bans.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import swallowedErrors from './scripts/eslint/swallowed-errors.js';

/** Node's own modules: their bare names (exact), and anything with the `node:` prefix (patterns). */
const NODE = builtinModules.filter((m) => !m.startsWith('_'));
const NODE_PREFIXED = ['node:*', 'node:*/**'];
const CLIENT = ['**/app/**'];
const SERVER = ['**/server/**'];

/** A lint block that bans `patterns` (globs) and `paths` (exact module names) for `files`. */
function bans(files, patterns, { paths = [], ignores = [], message } = {}) {
  if (paths === NODE || paths.includes(NODE[0])) patterns = [...patterns, ...NODE_PREFIXED];
  return {
    files,
    ignores,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: patterns, message: message ?? 'this import points up or sideways in the layer order (docs/ARCHITECTURE.md, "Dependency rules")' }],
          paths: paths.map((name) => ({ name, message: message ?? 'not in this layer (docs/ARCHITECTURE.md, "Dependency rules")' })),
        },
      ],
    },
  };
}

/** Hub folders above a given layer, as import globs. */
const HUB_TOP = ['**/app.ts', '**/main.ts', '**/plugin.ts', '**/cli.ts'];
const HUB_FEATURES = ['**/http/**', '**/auth/**', '**/metrics/**', '**/openwebui/**'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tsbuild/**', 'dist/**', '.youlab/**', 'test-results/**', 'playwright-report/**', 'YouLab/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Type-aware rules, for the heavily async code: a promise nobody awaits or handles is a bug.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
  {
    // Every error that is caught and dropped says why (scripts/eslint/swallowed-errors.js).
    files: ['app/**', 'server/**', 'shared/**', 'scripts/**', 'bin/**'],
    plugins: { youlab: { rules: { 'swallowed-error-says-why': swallowedErrors } } },
    rules: { 'youlab/swallowed-error-says-why': 'error' },
  },
  {
    // Small rooms (issue 11): a module over 400 lines or a function over 80 wants splitting.
    files: ['app/**/*.ts', 'server/**/*.ts', 'shared/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['app/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
  },

  // ---- layers ----------------------------------------------------------------------------
  // shared/: pure TypeScript for both sides and the pages; what needs Node lives in shared/node/.
  bans(['shared/**'], [...CLIENT, ...SERVER, '**/shared/node/**', './node/**', 'electron', 'express'], { paths: NODE, ignores: ['shared/node/**'] }),
  bans(['shared/node/**'], [...CLIENT, ...SERVER, 'electron', 'express']),
  // The hub, top to bottom: http/ -> workspace/ -> coordination/; store-error.ts below them all.
  bans(['server/**'], [...CLIENT, 'electron']),
  bans(['server/http/**'], [...CLIENT, 'electron', '**/openwebui/**', '**/auth/**', '**/metrics/**', ...HUB_TOP]),
  bans(['server/workspace/**'], [...CLIENT, 'electron', ...HUB_FEATURES, ...HUB_TOP], { paths: ['express'] }),
  bans(['server/coordination/**'], [...CLIENT, 'electron', '**/workspace/**', ...HUB_FEATURES, ...HUB_TOP]),
  bans(['server/store-error.ts'], ['./**', '../**']),
  // The KB planner decides; it never does I/O.
  bans(['server/openwebui/plan.ts'], [...CLIENT, 'electron', '**/shared/node/**', './client.ts', './http.ts', './state.ts', './kb-*.ts'], { paths: [...NODE, 'got'] }),
  // The client engine knows nothing of Electron, the hub's code, or the desktop shell.
  bans(['app/sync/**'], [...SERVER, 'electron', '**/main/**', '**/renderer/**', '**/ipc/**', '**/preload/**']),
  bans(['app/sync/plan.ts'], [...SERVER, 'electron', '**/shared/node/**', './hub-client.ts', './state-store.ts'], { paths: NODE }),
  // The engine's public types and the IPC contract: pure, shared by main, preload and the pages.
  bans(['app/engine-api/**', 'app/ipc/**'], [...SERVER, 'electron', '**/sync/**', '**/main/**', '**/renderer/**', '**/shared/node/**'], { paths: NODE }),
  // Pages run sandboxed in Chromium: no Node, no Electron, no engine.
  bans(['app/renderer/**'], [...SERVER, 'electron', '**/sync/**', '**/main/**', '**/preload/**', '**/shared/node/**'], { paths: NODE }),
  bans(['app/preload/**'], [...SERVER, '**/sync/**', '**/main/**', '**/renderer/**', '**/shared/node/**'], { paths: NODE }),
  bans(['app/main/**', 'app/cli.ts', 'app/kb-report.ts'], [...SERVER, '**/renderer/**']),
);

// Lint runs as part of `npm test`; type-aware rules stay off so lint stays fast on 2 cores.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.youlab/**', 'test-results/**', 'playwright-report/**', 'YouLab/**'] },
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
    files: ['app/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Dependencies point inward: shared/ imports neither side, and the sync engine never imports Electron.
    files: ['shared/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/app/**', '**/server/**', 'electron', 'express'] }] },
  },
  {
    files: ['app/sync/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['electron', '**/server/**', '**/main/**'] }] },
  },
  {
    files: ['server/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/app/**', 'electron'] }] },
  },
);

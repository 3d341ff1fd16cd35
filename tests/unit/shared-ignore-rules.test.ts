// docs/SYNC-SPEC.md default ignores plus user gitignore patterns.
import { describe, expect, it } from 'vitest';
import { createIgnore, validateIgnorePatterns } from '../../shared/ignore-rules.ts';

describe('default ignores', () => {
  const ig = createIgnore();
  it.each([
    ['.git/config'],
    ['sub/.git/HEAD'],
    ['node_modules/x/index.js'],
    ['pkg/__pycache__/m.pyc'],
    ['.DS_Store'],
    ['photos/Thumbs.db'],
    ['a.tmp'],
    ['.notes.txt.swp'],
    ['~$report.docx'],
    ['.~lock.sheet.ods#'],
    ['movie.mp4.part'],
    ['dl/file.crdownload'],
  ])('%s is ignored', (p) => {
    expect(ig.ignores(p)).toBe(true);
  });
  it.each([['notes.txt'], ['git/x'], ['my.tmpl'], ['modules/x.js'], ['.gitignore']])('%s is synced', (p) => {
    expect(ig.ignores(p)).toBe(false);
  });
  it('folders are matched as folders', () => {
    expect(ig.ignores('node_modules', true)).toBe(true);
    expect(ig.ignores('.git', true)).toBe(true);
  });
});

describe('user patterns', () => {
  const ig = createIgnore(['*.log', 'build/', '/top-only.txt', '!keep.log']);
  it('apply in gitignore syntax', () => {
    expect(ig.ignores('a/b/debug.log')).toBe(true);
    expect(ig.ignores('keep.log')).toBe(false);
    expect(ig.ignores('build/out.js')).toBe(true);
    expect(ig.ignores('top-only.txt')).toBe(true);
    expect(ig.ignores('sub/top-only.txt')).toBe(false);
    expect(ig.ignores('notes.md')).toBe(false);
  });
});

describe('pattern validation', () => {
  it('accepts valid patterns, comments and blank lines', () => {
    expect(validateIgnorePatterns(['*.log', '# comment', '', 'dist/', '!x'])).toEqual([]);
  });
  it('reports bad lines with their number', () => {
    const errs = validateIgnorePatterns(['ok', '../outside', 'a\u0000b']);
    expect(errs).toHaveLength(2);
    expect(errs[0]).toMatch(/^line 2: /);
    expect(errs[1]).toMatch(/^line 3: NUL/);
  });
});

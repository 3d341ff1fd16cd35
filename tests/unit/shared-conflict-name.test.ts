// docs/SYNC-SPEC.md conflict copy name: `<stem> (conflict <device> <YYYY-MM-DD HHMMSS>)<ext>`.
import { describe, expect, it } from 'vitest';
import { conflictCopyName, freeConflictCopyName, isConflictCopy, originalOfConflictCopy } from '../../shared/conflict-name.ts';

const when = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));

describe('conflict copy names', () => {
  it.each([
    ['plain file', 'notes.txt', 'notes (conflict laptop 2026-01-02 030405).txt'],
    ['nested folders', 'a/b/report.final.pdf', 'a/b/report.final (conflict laptop 2026-01-02 030405).pdf'],
    ['no extension', 'Makefile', 'Makefile (conflict laptop 2026-01-02 030405)'],
    ['dotfile', '.bashrc', '.bashrc (conflict laptop 2026-01-02 030405)'],
    ['dotfile with extension', 'cfg/.env.local', 'cfg/.env (conflict laptop 2026-01-02 030405).local'],
    ['dot in folder name only', 'v1.2/README', 'v1.2/README (conflict laptop 2026-01-02 030405)'],
  ])('%s', (_name, path, expected) => {
    expect(conflictCopyName(path, 'laptop', when)).toBe(expected);
  });

  it('sanitises device names that could break the name', () => {
    const n = conflictCopyName('x.txt', 'my/dev (1)\u0007', when);
    expect(n).not.toContain('/dev');
    expect(isConflictCopy(n)).toBe(true);
  });

  it('recognises a conflict copy, and a conflict copy of a conflict copy, and finds the original', () => {
    const copy = conflictCopyName('a/notes.txt', 'laptop', when);
    expect(isConflictCopy(copy)).toBe(true);
    expect(isConflictCopy('a/notes.txt')).toBe(false);
    expect(isConflictCopy('a/notes (conflict of interest).txt')).toBe(false);
    expect(originalOfConflictCopy(copy)).toBe('a/notes.txt');
    const copyOfCopy = conflictCopyName(copy, 'desk', when);
    expect(isConflictCopy(copyOfCopy)).toBe(true);
    expect(originalOfConflictCopy('plain.txt')).toBeUndefined();
  });

  it('only the file name counts: a folder that looks like a conflict copy does not make its files copies', () => {
    expect(isConflictCopy('old (conflict laptop 2026-01-02 030405)/file.txt')).toBe(false);
  });
});

describe('freeConflictCopyName', () => {
  it('moves the stamp on a second at a time until the name is free', () => {
    const taken = new Set(['n (conflict d 2026-01-02 030405).md', 'n (conflict d 2026-01-02 030406).md']);
    expect(freeConflictCopyName('n.md', 'd', when, (x) => taken.has(x))).toBe('n (conflict d 2026-01-02 030407).md');
    expect(freeConflictCopyName('n.md', 'd', when, () => false)).toBe('n (conflict d 2026-01-02 030405).md');
  });
});

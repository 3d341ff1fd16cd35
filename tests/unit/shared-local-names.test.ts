// Names a computer's filesystem cannot hold (shared/local-names.ts), by OS: the Windows rules run
// here on Linux because the OS is a parameter. docs/SYNC-SPEC.md "Names this computer cannot hold".
import { describe, expect, it } from 'vitest';
import { localNameMessage, localNameProblem, localOsOf } from '../../shared/local-names.ts';
import { checkPath } from '../../shared/paths.ts';

describe('localOsOf', () => {
  it.each([
    ['win32', 'windows'],
    ['darwin', 'mac'],
    ['linux', 'other'],
    ['freebsd', 'other'],
  ])('%s -> %s', (platform, os) => expect(localOsOf(platform)).toBe(os));
});

describe('Windows', () => {
  it.each([
    ['aux.md', /Windows-reserved name 'aux.md'/, '_aux.md'],
    ['CON', /Windows-reserved name 'CON'/, '_CON'],
    ['docs/lpt1.txt', /Windows-reserved name 'lpt1.txt'/, 'docs/_lpt1.txt'],
    ['notes:v2.md', /character not allowed on Windows/, 'notes-v2.md'],
    ['a*b?.txt', /character not allowed/, 'a-b-.txt'],
    ['say "hi".txt', /character not allowed/, 'say -hi-.txt'],
    ['x<y>|z.md', /character not allowed/, 'x-y--z.md'],
    ['draft.', /ends with a dot or a space/, 'draft'],
    ['dir /file.txt', /ends with a dot or a space/, 'dir/file.txt'],
  ])('%s cannot be held: %s, suggest %s', (path, reason, suggestion) => {
    const p = localNameProblem(path, 'windows');
    expect(p?.reason).toMatch(reason);
    expect(p?.suggestion).toBe(suggestion);
    // The suggestion is a name Windows can hold.
    expect(localNameProblem(p!.suggestion, 'windows')).toBeUndefined();
  });

  it.each(['notes.md', 'auxiliary.md', 'con-game/x.txt', 'com10.txt', 'résumé.txt', 'a b/c.d'])('%s is fine', (path) => {
    expect(localNameProblem(path, 'windows')).toBeUndefined();
  });

  it('the rules are the ones the hub-bound upload check refuses (one source)', () => {
    for (const path of ['aux.md', 'notes:v2.md', 'draft.']) {
      const up = checkPath(path, { forUpload: true });
      expect(up.ok).toBe(false);
      expect(localNameProblem(path, 'windows')?.reason).toBe((up as { reason: string }).reason);
    }
  });
});

describe('macOS and others', () => {
  it("macOS: ':' is refused with a '-' suggestion; Windows-only rules do not apply", () => {
    expect(localNameProblem('notes:v2.md', 'mac')).toMatchObject({ reason: expect.stringMatching(/':' in 'notes:v2.md'/), suggestion: 'notes-v2.md' });
    expect(localNameProblem('aux.md', 'mac')).toBeUndefined();
    expect(localNameProblem('draft.', 'mac')).toBeUndefined();
  });

  it('Linux and the rest hold every name the hub takes', () => {
    for (const path of ['aux.md', 'notes:v2.md', 'draft.', 'a*b?.txt']) expect(localNameProblem(path, 'other')).toBeUndefined();
  });

  it('the message says why and what to rename it to', () => {
    const m = localNameMessage('aux.md', localNameProblem('aux.md', 'windows')!, 'windows');
    expect(m).toBe("not downloaded: Windows cannot hold this name (Windows-reserved name 'aux.md'); rename it in the workspace (on the hub or another device), e.g. to '_aux.md'");
  });
});

// docs/SYNC-SPEC.md "Paths and input": every bad form is rejected, good ones come back NFC.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { caseKey, checkPath, encodePathForUrl, parentsOf, pathKey, utf8Length } from '../../shared/paths.ts';

const badForms: [string, string][] = [
  ['empty', ''],
  ['absolute', '/etc/passwd'],
  ['drive letter', 'C:/x.txt'],
  ['dot-dot segment', '../x'],
  ['dot-dot inside', 'a/../../x'],
  ['dot segment', 'a/./b'],
  ['lone dot', '.'],
  ['empty segment', 'a//b'],
  ['trailing slash', 'a/'],
  ['backslash', 'a\\b'],
  ['backslash traversal', '..\\x'],
  ['NUL', 'a\u0000b'],
  ['newline', 'a\nb'],
  ['tab', 'a\tb'],
  ['DEL', 'a\u007fb'],
  ['C1 control', 'a\u0085b'],
  ['percent-encoded dot-dot', '%2e%2e/x'],
  ['percent-encoded slash', 'a%2fb'],
  ['percent-encoded backslash', 'a%5Cb'],
  ['double-encoded', '%252e%252e/x'],
  ['percent-encoded NUL', 'a%00b'],
  ['percent-encoded control', 'a%0ab'],
  ['over-long segment', 'x'.repeat(256)],
  ['over-long path', ('y'.repeat(200) + '/').repeat(21) + 'z'],
];

describe('checkPath rejects every bad form', () => {
  it.each(badForms)('%s', (_name, p) => {
    const r = checkPath(p);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
  });
});

const reservedOnUpload: [string, string][] = [
  ['CON', 'CON'],
  ['nul with extension', 'docs/nul.txt'],
  ['COM1', 'COM1.log'],
  ['LPT9', 'lpt9'],
  ['trailing dot', 'a/name.'],
  ['trailing space', 'name '],
  ['colon', 'a:b.txt'],
  ['question mark', 'why?.md'],
  ['pipe', 'a|b'],
];

describe('Windows-reserved names are refused on upload only', () => {
  it.each(reservedOnUpload)('%s', (_name, p) => {
    expect(checkPath(p, { forUpload: true }).ok).toBe(false);
    // The same names are legal paths otherwise (they may exist on the hub, written by the agent).
    if (!/^[a-z]:/i.test(p)) expect(checkPath(p).ok).toBe(true);
  });
});

describe('good paths', () => {
  it.each(['a.txt', 'folder/sub/file.md', '.bashrc', 'résumé.pdf', 'a b/c d.txt', '100%.txt', 'x'.repeat(255)])('%s is accepted', (p) => {
    expect(checkPath(p, { forUpload: true })).toEqual({ ok: true, path: p.normalize('NFC') });
  });

  it('NFD comes back NFC', () => {
    const nfd = 'cafe\u0301/re\u0301sume\u0301.txt';
    const r = checkPath(nfd);
    expect(r).toEqual({ ok: true, path: 'café/résumé.txt' });
    expect(pathKey(nfd)).toBe(pathKey('café/résumé.txt'));
  });

  it('case key folds case for case-insensitive clash detection', () => {
    expect(caseKey('Notes/README.md')).toBe(caseKey('notes/readme.md'));
  });

  it('parentsOf lists folders nearest last', () => {
    expect(parentsOf('a/b/c.txt')).toEqual(['a', 'a/b']);
    expect(parentsOf('c.txt')).toEqual([]);
  });

  it('encodes each segment for URLs and keeps the slashes', () => {
    expect(encodePathForUrl('a b/ü?#.txt')).toBe('a%20b/%C3%BC%3F%23.txt');
  });
});

describe('utf8Length', () => {
  it('counts the bytes Node would write for any string, lone surrogates included', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => utf8Length(s) === Buffer.byteLength(s)), { numRuns: 2000 });
    for (const s of ['', 'é', '€', '😀', '\ud800', 'a\udc00b']) expect(utf8Length(s)).toBe(Buffer.byteLength(s));
  });
});

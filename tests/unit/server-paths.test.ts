// Path -> filesystem mapping on the hub: validation, containment, symlinks, NFC lookup.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { joinInside, locate, validPath } from '../../server/workspace/fs-paths.ts';
import { StoreError } from '../../server/store-error.ts';
import { classify } from '../../server/workspace/agent-watcher.ts';
import { workspacePathFromUrl } from '../../server/http/path-param.ts';

let root: string;
let outside: string;
beforeEach(async () => {
  const base = await mkdtemp(join(tmpdir(), 'server-paths-'));
  root = join(base, 'alice', 'workspace');
  outside = join(base, 'outside');
  await mkdir(root, { recursive: true });
  await mkdir(outside, { recursive: true });
});
afterEach(async () => {
  await rm(join(root, '..', '..'), { recursive: true, force: true });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof StoreError ? e.code : 'other';
  }
  return undefined;
}
async function codeOfAsync(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof StoreError ? e.code : 'other';
  }
  return undefined;
}

describe('400 paths: validPath', () => {
  it.each(['/abs', '../x', 'a/../b', './a', 'a//b', 'a\\b', 'a\u0000b', 'a\u0007b', '', 'C:/x', '%2e%2e/x', 'a%2Fb', '%252e'])(
    'refuses %j',
    (p) => {
      expect(codeOf(() => validPath(p, false))).toBe('bad_path');
    },
  );
  it('refuses Windows-reserved names on upload only', () => {
    expect(codeOf(() => validPath('CON', true))).toBe('bad_path');
    expect(codeOf(() => validPath('a/lpt1.txt', true))).toBe('bad_path');
    expect(validPath('CON', false)).toBe('CON');
  });
  it('returns NFC', () => {
    expect(validPath('cafe\u0301.txt', true)).toBe('caf\u00e9.txt');
  });
});

describe('joinInside', () => {
  it('refuses anything that would land outside the root', () => {
    expect(codeOf(() => joinInside(root, ['..', 'x']))).toBe('bad_path');
    expect(codeOf(() => joinInside(root, ['a', '..', '..', 'x']))).toBe('bad_path');
    expect(codeOf(() => joinInside(root, []))).toBe('bad_path');
    expect(joinInside(root, ['a', 'b'])).toBe(join(root, 'a', 'b'));
  });
});

describe('locate', () => {
  it('finds existing files and reports missing ones without creating anything', async () => {
    await mkdir(join(root, 'd'));
    await writeFile(join(root, 'd', 'f.txt'), 'x');
    const hit = await locate(root, 'd/f.txt');
    expect(hit.abs).toBe(join(root, 'd', 'f.txt'));
    expect(hit.st?.isFile()).toBe(true);
    const miss = await locate(root, 'new/deeper/g.txt');
    expect(miss.abs).toBe(join(root, 'new', 'deeper', 'g.txt'));
    expect(miss.st).toBeUndefined();
  });

  it('refuses to go through a symlinked folder (pointing outside)', async () => {
    await writeFile(join(outside, 'secret'), 's');
    await symlink(outside, join(root, 'link'));
    expect(await codeOfAsync(locate(root, 'link/secret'))).toBe('bad_path');
    expect(await codeOfAsync(locate(root, 'link/new.txt'))).toBe('bad_path');
  });

  it('reports a symlink target as a symlink, never its target', async () => {
    await writeFile(join(outside, 'secret'), 's');
    await symlink(join(outside, 'secret'), join(root, 'f'));
    const l = await locate(root, 'f');
    expect(l.st?.isSymbolicLink()).toBe(true);
  });

  it('refuses a path under a file (type clash)', async () => {
    await writeFile(join(root, 'plain'), 'p');
    expect(await codeOfAsync(locate(root, 'plain/child'))).toBe('conflict');
  });

  it('finds a name the OS holds in NFD under its NFC path', async () => {
    await writeFile(join(root, 'cafe\u0301.txt'), 'nfd');
    const l = await locate(root, 'caf\u00e9.txt');
    expect(l.st?.isFile()).toBe(true);
    expect(l.abs).toBe(join(root, 'cafe\u0301.txt'));
  });
});

describe('watcher path classification', () => {
  it('maps workspace files to (user, path) and ignores hub state', () => {
    const data = join(root, '..', '..');
    expect(classify(data, join(data, 'alice', 'workspace', 'a', 'b.txt'))).toEqual({ user: 'alice', rel: 'a/b.txt' });
    expect(classify(data, join(data, 'alice', '.hub', 'versions', 'x'))).toBe('ignore');
    expect(classify(data, join(data, '.youlab-hub', 'keys.json'))).toBe('ignore');
    expect(classify(data, join(data, 'alice'))).toEqual({ user: 'alice', rel: undefined });
    expect(classify(data, data)).toBe('outside');
  });
});

describe('raw URL path extraction', () => {
  const fromUrl = (url: string, forUpload = true, suffix?: string): string => {
    const req = { originalUrl: url } as Parameters<typeof workspacePathFromUrl>[0];
    return workspacePathFromUrl(req, 'files', forUpload, suffix);
  };
  it('decodes each segment once', () => {
    expect(fromUrl('/users/a/workspace/files/dir/caf%C3%A9%20x.txt?x=1')).toBe('dir/café x.txt');
    expect(fromUrl('/users/a/workspace/files/a/b/restore', true, 'restore')).toBe('a/b');
  });
  it.each([
    '/users/a/workspace/files/',
    '/users/a/workspace/files/a%2Fb',
    '/users/a/workspace/files/%2e%2e/x',
    '/users/a/workspace/files/%252e%252e/x',
    '/users/a/workspace/files/a%5Cb',
    '/users/a/workspace/files/a%00',
    '/users/a/workspace/files/a%E0%A4%A',
    '/users/a/workspace/files/../x',
    '/users/a/workspace/files/x/./y',
  ])('refuses %s', (url) => {
    expect(codeOf(() => fromUrl(url))).toBe('bad_path');
  });
});

describe('property: no accepted path lands outside the workspace', () => {
  it('holds for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 40 }), fc.boolean(), (s, upload) => {
        let p: string;
        try {
          p = validPath(s, upload);
        } catch (e) {
          return e instanceof StoreError && e.code === 'bad_path';
        }
        return joinInside(root, p.split('/')).startsWith(root + sep);
      }),
      { numRuns: 2000 },
    );
  });
  it('holds for strings built from dangerous pieces', () => {
    const piece = fc.constantFrom('..', '.', '/', '\\', '%2e', '%2f', 'a', 'b', '\u0000', '', 'CON', ' ');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (parts) => {
        const s = parts.join('');
        try {
          const p = validPath(s, true);
          return joinInside(root, p.split('/')).startsWith(root + sep) && !p.split('/').includes('..');
        } catch (e) {
          return e instanceof StoreError;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

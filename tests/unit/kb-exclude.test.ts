// docs/SYNC-SPEC.md "Only what belongs in a KB" and "Ignore rules": the KB leg's default
// exclusions, the workspace's .youlabignore (for the KB and for clients), virtualenvs by their
// pyvenv.cfg and the size limit, each reported with the rule that applies. Pure, no I/O.
import { describe, expect, it } from 'vitest';
import { kbExclusion, virtualenvFolders } from '../../server/openwebui/exclude.ts';
import { createIgnore, createRuleMatcher, parseIgnoreFile } from '../../shared/ignore-rules.ts';

const files = (...paths: string[]) => paths.map((path) => ({ path, size: 10 }));

describe('KB exclusion: defaults', () => {
  const ex = kbExclusion({ files: [], youlabignore: [] });
  it.each([
    ['node_modules/lib/index.js', 'default: node_modules/'],
    ['app/node_modules/x/README.md', 'default: node_modules/'],
    ['.git/hooks/post-update.sh', 'default: .git/'],
    ['sub/.git/description.md', 'default: .git/'],
    ['.env', 'default: .*'],
    ['.eslintrc.json', 'default: .*'],
    ['docs/.hidden/notes.md', 'default: .*'],
    ['.venv/lib/python3.12/site-packages/x.py', 'default: .venv/'],
    ['venv/lib/site.py', 'default: venv/'],
    ['lib/python3.12/site-packages/x.py', 'default: site-packages/'],
    ['pkg/__pycache__/m.py', 'default: __pycache__/'],
    ['package-lock.json', 'default: package-lock.json'],
    ['web/pnpm-lock.yaml', 'default: pnpm-lock.yaml'],
    ['yarn.lock', 'default: *.lock'],
    ['Cargo.lock', 'default: *.lock'],
    ['poetry.lock', 'default: *.lock'],
    ['dist/app.js', 'default: dist/'],
    ['build/out.txt', 'default: build/'],
    ['target/debug/main.rs', 'default: target/'],
    ['.next/server/page.js', 'default: .next/'],
    ['.mypy_cache/3.12/x.json', 'default: .mypy_cache/'],
    ['coverage/lcov.info', 'default: coverage/'],
    ['.youlabignore', 'default: .youlabignore'],
    ['Node_Modules/x/index.js', 'default: node_modules/'],
    ['docs/.Cache/x.md', 'default: .Cache/'],
    ['.github/workflows/ci.yml', 'default: .*'],
  ])('%s is left out (%s)', (path, rule) => {
    expect(ex.ruleFor(path)).toBe(rule);
  });
  it.each([['notes.md'], ['src/build.ts'], ['docs/dist-notes.md'], ['env/notes.md'], ['locks.md'], ['my.venv.md']])('%s goes to the KB', (path) => {
    expect(ex.ruleFor(path)).toBeUndefined();
  });
});

describe('KB exclusion: virtualenvs, .youlabignore and size', () => {
  it('a folder holding a pyvenv.cfg is a virtualenv, whatever its name; the workspace root never is', () => {
    const ex = kbExclusion({ files: files('env/pyvenv.cfg', 'env/lib/site.py', 'tools/py/pyvenv.cfg', 'pyvenv.cfg', 'notes.md'), youlabignore: [] });
    expect(ex.ruleFor('env/lib/site.py')).toBe('default: virtualenv env/ (holds pyvenv.cfg)');
    expect(ex.ruleFor('env/pyvenv.cfg')).toBe('default: virtualenv env/ (holds pyvenv.cfg)');
    expect(ex.ruleFor('tools/py/bin/activate.sh')).toBe('default: virtualenv tools/py/ (holds pyvenv.cfg)');
    expect(ex.ruleFor('notes.md')).toBeUndefined();
    expect([...virtualenvFolders(['a/pyvenv.cfg', 'pyvenv.cfg', 'b/pyvenv.cfg.md'])]).toEqual(['a']);
  });

  it('.youlabignore adds rules and may re-include a default, but never itself', () => {
    const ex = kbExclusion({ files: [], youlabignore: ['*.log', 'drafts/', '!build/', '!.youlabignore', '!.github/'] });
    expect(ex.ruleFor('logs/run.log')).toBe('.youlabignore: *.log');
    expect(ex.ruleFor('drafts/a.md')).toBe('.youlabignore: drafts/');
    expect(ex.ruleFor('build/report.md')).toBeUndefined();
    expect(ex.ruleFor('.github/workflows/ci.yml')).toBeUndefined();
    expect(ex.ruleFor('.youlabignore')).toBe('default: .youlabignore');
    expect(ex.ruleFor('node_modules/x.js')).toBe('default: node_modules/');
  });

  it('a workspace file over the size limit is left out; 0 means no limit; a KB-only path has no size here', () => {
    const listing = [
      { path: 'big.md', size: 1001 },
      { path: 'ok.md', size: 1000 },
    ];
    const ex = kbExclusion({ files: listing, youlabignore: [], maxFileBytes: 1000 });
    expect(ex.ruleFor('big.md')).toBe('too large: over 1000 bytes');
    expect(ex.ruleFor('ok.md')).toBeUndefined();
    expect(ex.ruleFor('web-only.md')).toBeUndefined();
    expect(kbExclusion({ files: listing, youlabignore: [], maxFileBytes: 0 }).ruleFor('big.md')).toBeUndefined();
  });
});

describe('.youlabignore: parsing and the client rules', () => {
  it('reads gitignore syntax: comments and blank lines dropped, CRLF and a BOM taken, a bad line left out with its number', () => {
    const { patterns, errors } = parseIgnoreFile('\uFEFF# logs\r\n*.log\r\n\r\n../outside\nbuild/\n');
    expect(patterns).toEqual(['*.log', 'build/']);
    expect(errors).toEqual([expect.stringMatching(/^line 4: '\.\.'/)]);
  });

  it('the file adds rules to a client, cannot make it sync what its defaults leave out, and its own patterns still win', () => {
    const ig = createIgnore(['!keep.log', '*.draft'], ['*.log', '!node_modules/', '!.git/']);
    expect(ig.ignores('a/debug.log')).toBe(true);
    expect(ig.ignores('keep.log')).toBe(false);
    expect(ig.ignores('x.draft')).toBe(true);
    expect(ig.ignores('node_modules/x.js')).toBe(true);
    expect(ig.ignores('.git/config')).toBe(true);
    expect(ig.ignores('notes.md')).toBe(false);
  });

  it('names the last rule that matches, with its source', () => {
    const m = createRuleMatcher([
      { source: 'default', patterns: ['.*', '.git/'] },
      { source: '.youlabignore', patterns: ['*.md', '!keep.md'] },
    ]);
    expect(m.ruleFor('.git/x')).toBe('default: .git/');
    expect(m.ruleFor('.env')).toBe('default: .*');
    expect(m.ruleFor('a.md')).toBe('.youlabignore: *.md');
    expect(m.ruleFor('keep.md')).toBeUndefined();
    expect(m.ruleFor('dir', true)).toBeUndefined();
  });
});

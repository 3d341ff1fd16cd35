// The project's own lint rule (scripts/eslint/swallowed-errors.js): a caught error that is dropped
// must say why, or be handled.
import { RuleTester } from 'eslint';
import { describe, it } from 'vitest';
import rule from '../../scripts/eslint/swallowed-errors.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

new RuleTester({ languageOptions: { ecmaVersion: 2023, sourceType: 'module' } }).run('swallowed-error-says-why', rule, {
  valid: [
    'p.catch((err) => log(err));',
    'p.catch(() => log("failed"));',
    'p.catch(() => { /* the temp file may be gone already */ });',
    '// the temp file may be gone already\np.catch(() => {});',
    'p.catch(() => undefined); // a vanished file reads as absent',
    'try { f(); } catch (e) { report(e); }',
    'try { f(); } catch { /* best effort: not every OS can fsync a folder */ }',
    'try { f(); } catch { throw new Error("wrapped"); }',
    'p.then(() => 1);',
  ],
  invalid: [
    { code: 'p.catch(() => {});', errors: [{ messageId: 'silent' }] },
    { code: 'p.catch(() => undefined);', errors: [{ messageId: 'silent' }] },
    { code: 'p.catch((_e) => null);', errors: [{ messageId: 'silent' }] },
    { code: 'function g() { try { f(); } catch { return; } }', errors: [{ messageId: 'silent' }] },
    { code: 'try { f(); } catch (e) { x = 1; }', errors: [{ messageId: 'silent' }] },
  ],
});

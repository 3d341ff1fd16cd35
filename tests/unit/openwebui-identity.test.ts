// Which hub user an Open WebUI account stands for (server/auth/openwebui-identity.ts hubUserFor):
// the map wins by id or email, and a hub id mapped to someone else is never handed out.
import { describe, expect, it } from 'vitest';
import { hubUserFor } from '../../server/auth/openwebui-identity.ts';

const alice = { id: 'a1b2', email: 'Alice@Example.org', role: 'user' };

describe('hubUserFor', () => {
  it('unmapped: the Open WebUI id is the hub id', () => {
    expect(hubUserFor(alice, {})).toBe('a1b2');
    expect(hubUserFor(alice, { bob: 'b9' })).toBe('a1b2');
  });
  it('mapped by id or by email (case-insensitive)', () => {
    expect(hubUserFor(alice, { alice: 'a1b2' })).toBe('alice');
    expect(hubUserFor(alice, { alice: 'alice@example.ORG' })).toBe('alice');
  });
  it('a hub id mapped to another account is not this account’s', () => {
    expect(hubUserFor(alice, { a1b2: 'someone@else.org' })).toBeUndefined();
  });
  it('two hub ids claiming one account: neither is chosen', () => {
    expect(hubUserFor(alice, { x: 'a1b2', y: 'alice@example.org' })).toBeUndefined();
  });
  it('an account without an email never matches an empty map value', () => {
    expect(hubUserFor({ id: 'z', email: '', role: 'user' }, { other: '' })).toBe('z');
  });
});

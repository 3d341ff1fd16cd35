// Whether the keychain tests can run: keytar is an optional dependency (it is absent where
// libsecret's headers were missing at npm ci) and a Secret Service needs a D-Bus session bus.
// Under .ci/run (YOULAB_KEYCHAIN=required) a missing piece fails instead of skipping.
import { loadKeytar } from '../../app/sync/keychain.ts';

async function whyNot(): Promise<string | undefined> {
  try {
    await loadKeytar();
  } catch (e) {
    return `keychain tests skipped: ${(e as { reason?: string }).reason ?? String(e)}`;
  }
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) return 'keychain tests skipped: no D-Bus session bus (run through scripts/test.sh)';
  return undefined;
}

/** For `describe.skipIf(...)`: true (with the reason printed) when the real keychain cannot be used here. */
export async function skipWithoutKeychain(): Promise<boolean> {
  const why = await whyNot();
  if (!why) return false;
  if (process.env.YOULAB_KEYCHAIN === 'required') throw new Error(`YOULAB_KEYCHAIN=required but ${why}`);
  console.warn(why);
  return true;
}

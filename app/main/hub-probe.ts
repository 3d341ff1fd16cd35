// "Test connection": ask the hub who the key belongs to, with the hub's own words on failure.
import { HubClient } from '../sync/hub-client.ts';
import { HubError } from '../sync/hub-errors.ts';

export async function probeHub(serverUrl: string, apiKey: string, timeoutMs = 10_000): Promise<string> {
  const client = new HubClient({ baseUrl: serverUrl, apiKey, maxRateLimitRetries: 0, signal: AbortSignal.timeout(timeoutMs) });
  try {
    const me = await client.me();
    if (!me.user_id) throw new Error('This is a service key; use your personal API key to sync a folder');
    return me.user_id;
  } catch (e) {
    if (e instanceof HubError) {
      const status = e.status ? ` (HTTP ${e.status})` : '';
      if (e.kind === 'auth') throw new Error(`The hub rejected this API key${status}: ${e.message}`);
      throw new Error(`${e.message}${status}`);
    }
    throw e;
  }
}

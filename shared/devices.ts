// The wire shapes of sign-in with Open WebUI and of device lists (server/auth/key-routes.ts):
// shared by the hub's tests, the client and the desktop app's IPC contract.
import { z } from 'zod';

/** POST /auth/exchange and POST /users/{id}/keys: the new key, shown this once. */
export const IssuedKeySchema = z.object({ key: z.string(), user_id: z.string(), key_id: z.string() });
export type IssuedKey = z.infer<typeof IssuedKeySchema>;

/** One entry of GET /me/keys (`current`: the key that asked) and GET /users/{id}/keys. */
export const DeviceKeySchema = z.object({
  id: z.string(),
  device: z.string(),
  user_id: z.string().nullable(),
  created: z.string(),
  last_used: z.string().nullable(),
  current: z.boolean().optional(),
});
export type DeviceKey = z.infer<typeof DeviceKeySchema>;

export const DeviceListSchema = z.object({ keys: z.array(DeviceKeySchema) });

/** The key id inside a hub key (`ylk_<id>_<secret>`), to tell "this device" apart without asking. */
export function keyIdOf(key: string): string | undefined {
  return /^ylk_([0-9a-f]{16})_/.exec(key)?.[1];
}

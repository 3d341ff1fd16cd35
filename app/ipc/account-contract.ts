// IPC channels of "Sign in with Open WebUI" and the Devices list (settings window). Kept apart
// from contract.ts, which spreads `accountContract` into its invoke contract.
import { z } from 'zod';

const Url = z.string().max(2048);

export const SignInResultSchema = z.union([
  z.object({ ok: z.literal(true), userId: z.string(), keyId: z.string() }),
  z.object({
    ok: z.literal(false),
    /** The field the message belongs next to; absent: a message for the whole sign-in. */
    field: z.enum(['serverUrl', 'openWebuiUrl', 'openWebuiToken']).optional(),
    message: z.string(),
  }),
]);

export const DeviceViewSchema = z.object({
  id: z.string(),
  device: z.string(),
  created: z.string(),
  lastUsed: z.string().nullable(),
  /** The key this app is using. */
  current: z.boolean(),
});

export const DevicesResultSchema = z.union([
  z.object({ ok: z.literal(true), devices: z.array(DeviceViewSchema) }),
  z.object({ ok: z.literal(false), message: z.string() }),
]);

export const accountContract = {
  'account:sign-in': {
    request: z.object({ serverUrl: Url, openWebuiUrl: Url, openWebuiToken: z.string().max(8192), device: z.string().max(100).optional() }),
    response: SignInResultSchema,
  },
  'account:devices': { request: z.object({ serverUrl: Url }), response: DevicesResultSchema },
  'account:disconnect': {
    request: z.object({ serverUrl: Url, keyId: z.string().regex(/^[0-9a-f]{16}$/) }),
    response: z.union([z.object({ ok: z.literal(true) }), z.object({ ok: z.literal(false), message: z.string() })]),
  },
} as const;

export type SignInResult = z.infer<typeof SignInResultSchema>;
export type DeviceView = z.infer<typeof DeviceViewSchema>;
export type DevicesResult = z.infer<typeof DevicesResultSchema>;

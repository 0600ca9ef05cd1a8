export const AUTH_METHODS = ['entra', 'openwebui', 'apikey', 'm2m', 'local'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** Who the caller is, as the gateway resolved it. The same shape whatever the auth method. */
export interface Identity {
  userId: string;
  email: string;
  name: string;
  groups: readonly string[];
  admin: boolean;
  tenant: string | null;
  authMethod: AuthMethod;
  /** Server ids an API key narrows the caller to; null means no narrowing. */
  allowServers: readonly string[] | null;
  /** Server ids an API key blocks. */
  blockServers: readonly string[];
}

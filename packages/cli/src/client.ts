/** A small client of /mcp-admin/api: Bearer credential, JSON in and out, problem+json errors as CliError. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Exit codes: 1 the API refused (4xx/5xx), 2 bad usage, 3 no credential or server unreachable. */
export const EXIT = { ok: 0, api: 1, usage: 2, connection: 3 } as const;

export interface AdminClient {
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export function createAdminClient(baseUrl: string, token: string, fetchImpl: typeof fetch = fetch): AdminClient {
  const root = baseUrl.replace(/\/+$/, '');
  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetchImpl(`${root}/mcp-admin/api${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (err) {
        throw new CliError(`cannot reach ${root}: ${(err as Error).message}`, EXIT.connection);
      }
      const text = await res.text();
      let data: unknown = null;
      try {
        data = text ? JSON.parse(text) : null;
      } catch {
        data = text;
      }
      if (!res.ok) {
        const p = data as { detail?: string; title?: string } | null;
        throw new CliError(`${res.status} ${p?.detail ?? p?.title ?? res.statusText}`, EXIT.api);
      }
      return data as T;
    },
  };
}

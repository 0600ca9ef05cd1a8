const REDACTED = '[redacted]';

/**
 * Removes secrets (a tenant key, the header value carrying it) from text an upstream produced:
 * APIs like to echo the credential they rejected ("invalid key sk-…"), and that text ends up in
 * logs and in errors sent to callers. The plain, JSON-escaped and URL-encoded forms are removed.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so `Bearer <key>` goes as a whole before `<key>` alone.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret === '') continue;
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])) {
      out = out.split(form).join(REDACTED);
    }
  }
  return out;
}

/** The same for a JSON value (an upstream error's `data`); undefined if it cannot be kept safely. */
export function scrubJson(value: unknown, secrets: readonly string[]): unknown {
  if (value === undefined || secrets.length === 0) return value;
  try {
    return JSON.parse(scrubSecrets(JSON.stringify(value), secrets)) as unknown;
  } catch {
    return undefined;
  }
}

const SECRET_KEY = /(authorization|cookie|password|passwd|token|secret|api[-_]?key|apikey|signature|^key$|_key$|-key$)/i;
/** camelCase `…Key` fields (tenantKey, masterKey); case-sensitive so `monkey` stays visible. */
const CAMEL_KEY = /[a-z0-9]Key$/;
/** The auth scheme is case-insensitive (RFC 9110), so `bearer x` is as secret as `Bearer x`. */
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
const MCPGW_KEY = /\bmcpgw_[A-Za-z0-9_-]{8,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

export const REDACTED = '[redacted]';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || CAMEL_KEY.test(key);
}

function redactString(value: string): string {
  return value.replace(BEARER, `$1${REDACTED}`).replace(MCPGW_KEY, 'mcpgw_' + REDACTED).replace(JWT, REDACTED);
}

/**
 * Returns a copy with secret-looking fields masked and bearer tokens, mcpgw_ keys and JWTs removed
 * from strings. Depth-limited and cycle-safe; used on every log record before any transport.
 */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[depth]';
  if (seen.has(value)) return '[cycle]';
  seen.add(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (value instanceof Error) {
    return { name: value.name, message: redactString(value.message), stack: value.stack ? redactString(value.stack) : undefined };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : redact(v, depth + 1, seen);
  }
  return out;
}

import { isIP } from 'node:net';
import { z } from 'zod';

/** Building blocks for service env schemas. Each parses a string variable into a typed value. */

export const port = (fallback: number) =>
  z.coerce.number().int().min(0).max(65535).default(fallback);

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const nonNegativeInt = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const url = () =>
  z.string().refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

export const postgresUrl = () =>
  z.string().refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL');

export const redisUrl = () => z.string().refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// URL');

/** A secret: no default, at least `min` characters. */
export const secret = (min = 32) => z.string().min(min, `must be at least ${min} characters`);

export const logLevel = () => z.enum(['error', 'warn', 'info', 'debug']).default('info');

export const host = (fallback: string) => z.string().min(1).default(fallback);

/** Postgres schema name holding mcpgw's tables. */
export const dbSchema = () =>
  z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .default('mcpgw');

/** Comma-separated list of values. */
export const list = () =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );

const PROXY_PRESETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrCidr(item: string): boolean {
  const [address, prefix, ...rest] = item.split('/');
  if (rest.length > 0 || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Which proxies' X-Forwarded-For to believe (express "trust proxy"): empty or `false` for none,
 * `true` for any (only behind a proxy that always overwrites the header), or a comma list of
 * `loopback`, `linklocal`, `uniquelocal`, addresses and CIDR ranges. Hop counts are refused: they
 * trust whatever a client prepends.
 */
export const trustProxy = () =>
  z
    .string()
    .default('')
    .transform((value, ctx): boolean | string[] => {
      if (value === '' || value === 'false') return false;
      if (value === 'true') return true;
      const items = value.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = items.filter((i) => !PROXY_PRESETS.has(i) && !isAddressOrCidr(i));
      if (bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `has entries that are not loopback/linklocal/uniquelocal, an IP address or a CIDR range: ${bad.join(', ')}` });
        return z.NEVER;
      }
      return items;
    });

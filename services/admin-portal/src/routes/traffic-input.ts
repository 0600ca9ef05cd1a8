import { z } from 'zod';
import { AppError } from '@mcpgw/http';

/** Parses a request body or query with `schema`; a mismatch is a 400 naming the fields. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  throw new AppError('BAD_REQUEST', `Invalid input: ${problems.join('; ')}`, { extra: { problems } });
}

export const UUID = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');

/** A database error for a row that is already there, or a foreign key that is not. */
export function conflictOrMissing(err: unknown, what: string): never {
  const code = (err as { code?: string } | null)?.code;
  if (code === '23505') throw new AppError('CONFLICT', `${what} already exists`, { cause: err });
  if (code === '23503') throw new AppError('BAD_REQUEST', `${what} refers to a tenant, server, user or key that does not exist`, { cause: err });
  if (code === '23514') throw new AppError('BAD_REQUEST', `${what} is not consistent (see the rules for its scope)`, { cause: err });
  throw err;
}

import express, { type RequestHandler } from 'express';
import type { z } from 'zod';
import { AppError } from '@mcpgw/http';

/** Form (application/x-www-form-urlencoded) and JSON bodies of the gateway's own small endpoints. */
export const parseSmallBody: RequestHandler[] = [express.json({ limit: '16kb' }), express.urlencoded({ extended: false, limit: '16kb' })];

/** The body checked against `schema`; 400 naming every bad field otherwise. */
export function bodyOf<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  throw new AppError('BAD_REQUEST', `Invalid request: ${fields.join('; ')}`);
}

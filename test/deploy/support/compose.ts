import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * Compose files as Docker Compose reads them, without Docker: YAML with merge keys (`<<: *anchor`)
 * and compose's variable interpolation, for tests.
 */

export const ROOT = path.resolve(import.meta.dirname, '../../..');

export type ComposeFile = {
  services: Record<string, Record<string, unknown> & { environment?: Record<string, unknown> }>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, unknown>;
  [key: string]: unknown;
};

export function readCompose(file: string): { text: string; doc: ComposeFile } {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return { text, doc: parse(text, { merge: true }) as ComposeFile };
}

export class InterpolationError extends Error {}

/** The index of the `}` closing the `${` at `open`, counting nested `${…}`. */
function closing(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text.startsWith('${', i)) {
      depth += 1;
      i += 1;
    } else if (text[i] === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  throw new InterpolationError(`unclosed \${ in ${text}`);
}

/**
 * Compose's interpolation of one string: `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}` (defaults may hold further `${…}`), and `$$` for a dollar.
 * Throws InterpolationError with compose's message for a required variable that is missing.
 */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith('$$', i)) {
      out += '$';
      i += 1;
      continue;
    }
    if (!text.startsWith('${', i)) {
      out += text[i];
      continue;
    }
    const end = closing(text, i);
    const inner = text.slice(i + 2, end);
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([\s\S]*))?$/.exec(inner);
    if (!match) throw new InterpolationError(`invalid interpolation \${${inner}}`);
    const [, name, op, arg = ''] = match as unknown as [string, string, string | undefined, string | undefined];
    const value = env[name];
    const unset = value === undefined;
    const empty = unset || value === '';
    if (op === ':-') out += empty ? interpolate(arg, env) : value;
    else if (op === '-') out += unset ? interpolate(arg, env) : value;
    else if (op === ':?' || op === '?') {
      if (op === ':?' ? empty : unset) throw new InterpolationError(`required variable ${name} is missing a value: ${interpolate(arg, env)}`);
      out += value;
    } else out += value ?? '';
    i = end;
  }
  return out;
}

/** A service's environment after interpolation, as the container gets it (values as strings). */
export function environmentOf(doc: ComposeFile, service: string, env: Record<string, string | undefined>): Record<string, string> {
  const raw = doc.services[service]?.environment ?? {};
  return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, interpolate(String(value ?? ''), env)]));
}

/** Every interpolated string of a document (for checking that all of them resolve). */
export function everyString(value: unknown, visit: (text: string, at: string) => void, at = ''): void {
  if (typeof value === 'string') visit(value, at);
  else if (Array.isArray(value)) value.forEach((v, i) => everyString(v, visit, `${at}[${i}]`));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) everyString(v, visit, at ? `${at}.${k}` : k);
}

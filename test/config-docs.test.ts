import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EnvSchema } from '@mcpgw/config';
import { gatewayEnv } from '@mcpgw/gateway';
import { mcpProxyEnv } from '@mcpgw/mcp-proxy';
import { adminPortalEnv } from '@mcpgw/admin-portal';
import { demoServerEnv } from '@mcpgw/demo-server';
import { stackEnv } from '@mcpgw/stack';
import { healthTargets } from '../infra/healthcheck.mjs';

/**
 * Drift test: docs/configuration.md, .env.example and infra/healthcheck.mjs against the config
 * schemas (the only place variable names, defaults and "required" are decided).
 */

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Process {
  /** Name used in the docs' "read by" column. */
  id: string;
  /** How its section heading in docs/configuration.md starts. */
  heading: string;
  schema: EnvSchema;
  /** Whether .env.example must list every variable (the services docker-compose.unified.yml runs). */
  inEnvExample: boolean;
}

const PROCESSES: readonly Process[] = [
  { id: 'gateway', heading: 'gateway', schema: gatewayEnv, inEnvExample: true },
  { id: 'mcp-proxy', heading: 'mcp-proxy', schema: mcpProxyEnv, inEnvExample: true },
  { id: 'admin-portal', heading: 'admin-portal', schema: adminPortalEnv, inEnvExample: true },
  { id: 'demo-server', heading: 'demo-server', schema: demoServerEnv, inEnvExample: false },
  { id: 'launcher', heading: 'npm start launcher', schema: stackEnv, inEnvExample: false },
];

const SHARED_HEADING = 'Variables read by several services';
const DEPLOYMENT_HEADING = 'Deployment variables';

// ---- schema facts ---------------------------------------------------------------------------

type Field = EnvSchema['shape'][string];

interface FieldFacts {
  required: boolean;
  /** The parsed default; undefined when there is none. */
  fallback: unknown;
}

/** What a field does when its variable is unset: fail (required), or yield its default. */
function factsOf(field: Field): FieldFacts {
  const parsed = field.safeParse(undefined);
  return parsed.success ? { required: false, fallback: parsed.data } : { required: true, fallback: undefined };
}

const keysOf = (schema: EnvSchema) => Object.keys(schema.shape);
const allKeys = new Set(PROCESSES.flatMap((p) => keysOf(p.schema)));
const readersOf = (key: string) => PROCESSES.filter((p) => key in p.schema.shape).map((p) => p.id);

/** A default as it is written in an env file (`true`, `8085`, `a,b`, ``). */
function asEnvValue(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** How the docs' default column must start for this default. */
function defaultCell(facts: FieldFacts): string {
  if (facts.fallback === undefined) return '—';
  const text = asEnvValue(facts.fallback);
  return text === '' ? '(empty)' : `\`${text}\``;
}

// ---- docs/configuration.md ------------------------------------------------------------------

interface Row {
  variable: string;
  cells: string[];
  line: number;
}

interface Section {
  heading: string;
  rows: Row[];
}

const VARIABLE_ROW = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/;

/** Splits a markdown page at its `## ` headings; keeps the table rows that name a variable. */
function parseSections(markdown: string): Section[] {
  const sections: Section[] = [{ heading: '', rows: [] }];
  markdown.split('\n').forEach((text, index) => {
    const heading = /^## (.+)$/.exec(text);
    if (heading) {
      sections.push({ heading: heading[1]!.trim(), rows: [] });
      return;
    }
    const row = VARIABLE_ROW.exec(text);
    if (row) {
      const cells = text.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
      sections.at(-1)!.rows.push({ variable: row[1]!, cells, line: index + 1 });
    }
  });
  return sections;
}

function startsWithWord(heading: string, start: string): boolean {
  return heading === start || heading.startsWith(`${start} `);
}

function sectionOf(sections: readonly Section[], start: string): Section {
  const found = sections.filter((s) => startsWithWord(s.heading, start));
  if (found.length !== 1) throw new Error(`docs/configuration.md: expected one "## ${start}…" section, found ${found.length}`);
  return found[0]!;
}

/**
 * Problems between one process's schema and its docs section, whose table has the columns
 * variable | default | required | meaning. Empty when they agree.
 */
function sectionProblems(schema: EnvSchema, section: Section): string[] {
  const problems: string[] = [];
  const documented = new Map<string, Row>();
  for (const row of section.rows) {
    if (documented.has(row.variable)) problems.push(`${row.variable}: listed twice (line ${row.line})`);
    documented.set(row.variable, row);
  }
  for (const key of keysOf(schema)) {
    const row = documented.get(key);
    if (!row) {
      problems.push(`${key}: in the schema but not in the "${section.heading}" table`);
      continue;
    }
    if (row.cells.length !== 4) {
      problems.push(`${key}: line ${row.line} has ${row.cells.length} cells, expected 4 (variable | default | required | meaning)`);
      continue;
    }
    const [, defaultText, requiredText, meaning] = row.cells as [string, string, string, string];
    const facts = factsOf(schema.shape[key]!);
    const expectedDefault = defaultCell(facts);
    if (!defaultText.startsWith(expectedDefault)) problems.push(`${key}: default column is "${defaultText}", the schema's default is ${expectedDefault}`);
    const expectedRequired = facts.required ? 'yes' : 'no';
    if (requiredText !== expectedRequired) problems.push(`${key}: required column is "${requiredText}", the schema says ${expectedRequired}`);
    if (meaning === '') problems.push(`${key}: no meaning given`);
  }
  for (const variable of documented.keys()) {
    if (!(variable in schema.shape)) problems.push(`${variable}: in the "${section.heading}" table but not in the schema`);
  }
  return problems;
}

// ---- .env.example -----------------------------------------------------------------------------

/** `NAME=value` lines, commented out (`# NAME=value`) or not. */
function envExampleEntries(text: string): Map<string, { value: string; line: number }> {
  const entries = new Map<string, { value: string; line: number }>();
  text.split('\n').forEach((line, index) => {
    const match = /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match && !entries.has(match[1]!)) entries.set(match[1]!, { value: match[2]!.trim(), line: index + 1 });
  });
  return entries;
}

// ---- the tests --------------------------------------------------------------------------------

const docs = read('docs/configuration.md');
const sections = parseSections(docs);
const envExample = envExampleEntries(read('.env.example'));
const deployment = sectionOf(sections, DEPLOYMENT_HEADING);

describe('config schemas', () => {
  it.each(PROCESSES.map((p) => [p.id, p] as const))('%s: every variable has a describe() text', (_id, proc) => {
    const undescribed = keysOf(proc.schema).filter((key) => !proc.schema.shape[key]!.description?.trim());
    expect(undescribed).toEqual([]);
  });
});

describe('docs/configuration.md', () => {
  it.each(PROCESSES.map((p) => [p.id, p] as const))(
    '%s: its section lists exactly its schema, with the right defaults and "required"',
    (_id, proc) => {
      expect(sectionProblems(proc.schema, sectionOf(sections, proc.heading))).toEqual([]);
    },
  );

  it('names no variable outside the schemas (no stale docs)', () => {
    const stale = sections
      .filter((s) => s !== deployment)
      .flatMap((s) => s.rows)
      .filter((row) => !allKeys.has(row.variable))
      .map((row) => `${row.variable} (line ${row.line})`);
    expect(stale).toEqual([]);
  });

  it('lists, in the shared table, exactly the variables read by several processes and who reads them', () => {
    const shared = sectionOf(sections, SHARED_HEADING);
    const documented = Object.fromEntries(
      shared.rows.map((row) => [row.variable, (row.cells[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).sort()]),
    );
    const actual = Object.fromEntries(
      [...allKeys].filter((key) => readersOf(key).length > 1).map((key) => [key, readersOf(key).sort()]),
    );
    expect(documented).toEqual(actual);
  });

  it('lists deployment variables that compose or Caddy really read, and none of the services', () => {
    const deploymentFiles = read('docker-compose.unified.yml') + read('Caddyfile');
    const problems = deployment.rows.flatMap((row) => [
      ...(allKeys.has(row.variable) ? [`${row.variable}: a service variable, belongs in its service's table`] : []),
      ...(deploymentFiles.includes(row.variable) ? [] : [`${row.variable}: used by neither docker-compose.unified.yml nor the Caddyfile`]),
    ]);
    expect(problems).toEqual([]);
  });

  it('catches a schema variable that has no docs (the drift this file guards against)', () => {
    const grown = gatewayEnv.extend({ UNDOCUMENTED_EXAMPLE: gatewayEnv.shape.LOG_LEVEL }) as unknown as EnvSchema;
    const section = sectionOf(sections, 'gateway');
    expect(sectionProblems(grown, section)).toContain(`UNDOCUMENTED_EXAMPLE: in the schema but not in the "${section.heading}" table`);
  });
});

describe('.env.example', () => {
  it.each(PROCESSES.filter((p) => p.inEnvExample).map((p) => [p.id, p] as const))('%s: lists every variable', (_id, proc) => {
    expect(keysOf(proc.schema).filter((key) => !envExample.has(key))).toEqual([]);
  });

  it('names only schema or deployment variables', () => {
    const deploymentVariables = new Set(deployment.rows.map((row) => row.variable));
    const unknown = [...envExample.keys()].filter((key) => !allKeys.has(key) && !deploymentVariables.has(key));
    expect(unknown).toEqual([]);
  });

  it('shows the schemas\' defaults where it shows one', () => {
    const problems: string[] = [];
    for (const [key, entry] of envExample) {
      for (const proc of PROCESSES) {
        const field = proc.schema.shape[key];
        if (!field) continue;
        const { fallback } = factsOf(field);
        if (fallback !== undefined && entry.value !== asEnvValue(fallback)) {
          problems.push(`${key}=${entry.value} (line ${entry.line}), ${proc.id}'s default is "${asEnvValue(fallback)}"`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('holds no secret values', () => {
    const filled = [...envExample].filter(([key, entry]) => /SECRET|MASTER_KEYS|PASSWORD/.test(key) && entry.value !== '');
    expect(filled.map(([key]) => key)).toEqual([]);
  });
});

describe('infra/healthcheck.mjs', () => {
  it.each(Object.entries(healthTargets))('%s: probes the port its schema defaults to', (service, target) => {
    const proc = PROCESSES.find((p) => p.id === service);
    expect(proc, `no schema for ${service}`).toBeDefined();
    const field = proc!.schema.shape[target.portVariable];
    expect(field, `${service} has no ${target.portVariable}`).toBeDefined();
    expect(factsOf(field!).fallback).toBe(target.defaultPort);
  });
});

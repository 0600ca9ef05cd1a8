import { z } from 'zod';

/**
 * A service's environment schema: one zod object whose keys are the environment variable names.
 * Every entry carries a `.describe()` text; docs/configuration.md is checked against these keys.
 */
export type EnvSchema = z.ZodObject<Record<string, z.ZodType>>;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(service: string, problems: readonly string[]) {
    super(`${service}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parses the whole environment at once and reports every problem in one error that names the
 * variables. Empty strings count as unset, so `FOO=` in an .env file falls back to the default.
 */
export function loadConfig<S extends EnvSchema>(
  service: string,
  schema: S,
  source: Record<string, string | undefined>,
): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = source[key];
    if (value !== undefined && value.trim() !== '') input[key] = value.trim();
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const message = input[name] === undefined && issue.code === 'invalid_type' ? 'is required' : issue.message;
    return `${name} ${message}`;
  });
  throw new ConfigError(service, problems);
}

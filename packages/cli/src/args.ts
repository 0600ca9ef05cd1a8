import { CliError, EXIT } from './client.js';

export interface Parsed {
  flags: Record<string, string | true>;
  positionals: string[];
}

/** `--name value`, `--name=value` and bare `--flag` (true). */
export function parseArgs(argv: readonly string[], booleans: readonly string[] = []): Parsed {
  const flags: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (eq !== -1) flags[name] = arg.slice(eq + 1);
    else if (booleans.includes(name) || argv[i + 1] === undefined || argv[i + 1]!.startsWith('--')) flags[name] = true;
    else flags[name] = argv[++i]!;
  }
  return { flags, positionals };
}

export function required(p: Parsed, name: string): string {
  const v = p.flags[name];
  if (typeof v !== 'string' || v === '') throw new CliError(`--${name} is required`, EXIT.usage);
  return v;
}
export function optional(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  if (v === true) throw new CliError(`--${name} needs a value`, EXIT.usage);
  return v;
}
export const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

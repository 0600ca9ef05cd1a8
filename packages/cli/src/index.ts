import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from './args.js';
import { CliError, createAdminClient, EXIT } from './client.js';
import { COMMANDS, type Output } from './commands.js';
import { OPERATOR_COMMANDS } from './operator-commands.js';

export { COMMANDS } from './commands.js';
export { OPERATOR_COMMANDS } from './operator-commands.js';
export { EXIT } from './client.js';

export interface CliIo {
  env: Record<string, string | undefined>;
  home: string;
  out(line: string): void;
  err(line: string): void;
  fetch?: typeof fetch;
}

export function processIo(): CliIo {
  return { env: process.env, home: homedir(), out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };
}

const GLOBAL_HELP = [
  'usage: mcpgw <command> [options]   (mcpgw <command> --help for its options)',
  '',
  'Global options: --gateway-url URL (or MCPGW_URL), --token-file FILE (default ~/.config/mcpgw/token; or MCPGW_TOKEN), --json',
  'The token is an admin credential: an mcpgw_ API key of an admin, or an admin access token.',
  '',
  'Commands:',
];

/** Reads the credential: MCPGW_TOKEN, else --token-file, else ~/.config/mcpgw/token (first line). */
async function credential(io: CliIo, tokenFile: string | undefined): Promise<string> {
  if (!tokenFile && io.env.MCPGW_TOKEN) return io.env.MCPGW_TOKEN.trim();
  const file = tokenFile ?? path.join(io.home, '.config', 'mcpgw', 'token');
  try {
    const text = (await readFile(file, 'utf8')).trim();
    // A JSON token file ({"access_token": …} or {"api_key": …}) works too, like the registry guide's.
    const token = text.startsWith('{') ? ((JSON.parse(text) as Record<string, string>).access_token ?? (JSON.parse(text) as Record<string, string>).api_key) : text.split('\n')[0];
    if (!token) throw new Error('no token in it');
    return token.trim();
  } catch (err) {
    throw new CliError(`no credential: set MCPGW_TOKEN or put a token in ${file} (${(err as Error).message})`, EXIT.connection);
  }
}

/** Runs one command; returns the process exit code (0 ok, 1 refused by the API, 2 usage, 3 no credential/unreachable). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  const args = parseArgs(rest, ['json', 'help', 'admin']);
  const json = args.flags.json === true;
  if (!name || name === '--help' || name === 'help' || name === '-h') {
    [
      ...GLOBAL_HELP,
      ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(18)} ${c.summary}`),
      '',
      'Operator commands (they read DATABASE_URL, DB_SCHEMA and MASTER_KEYS, not the admin API):',
      ...Object.entries(OPERATOR_COMMANDS).map(([n, c]) => `  ${n.padEnd(18)} ${c.summary}`),
    ].forEach(io.out);
    return name ? EXIT.ok : EXIT.usage;
  }
  const operator = OPERATOR_COMMANDS[name];
  if (operator) {
    if (args.flags.help === true) {
      io.out(`${operator.summary}\n\nusage: mcpgw ${operator.usage} [--json]`);
      return EXIT.ok;
    }
    return report(name, json, io, () => operator.run({ args, env: io.env, progress: io.err }));
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`mcpgw: unknown command "${name}" (mcpgw --help lists them)`);
    return EXIT.usage;
  }
  if (args.flags.help === true) {
    io.out(`${command.summary}\n\nusage: mcpgw ${command.usage} [--json] [--gateway-url URL] [--token-file FILE]`);
    return EXIT.ok;
  }
  return report(name, json, io, async () => {
    const url = (typeof args.flags['gateway-url'] === 'string' ? args.flags['gateway-url'] : undefined) ?? io.env.MCPGW_URL ?? (await readFile(path.join(io.home, '.config', 'mcpgw', 'url'), 'utf8').then((t) => t.trim(), () => undefined));
    if (!url) throw new CliError('no gateway URL: pass --gateway-url, set MCPGW_URL or write it to ~/.config/mcpgw/url', EXIT.usage);
    const token = await credential(io, typeof args.flags['token-file'] === 'string' ? args.flags['token-file'] : undefined);
    const api = createAdminClient(url, token, io.fetch);
    return command.run({
      api,
      args,
      readFile: (f) => readFile(f, 'utf8'),
      writeFile: async (f, text) => {
        await mkdir(path.dirname(path.resolve(f)), { recursive: true });
        await writeFile(f, text);
      },
    });
  });
}

/** Prints a command's output (--json: its data) or its CliError; returns the exit code. */
async function report(name: string, json: boolean, io: CliIo, run: () => Promise<Output>): Promise<number> {
  try {
    const result = await run();
    if (json) io.out(JSON.stringify(result.data, null, 2));
    else result.text.forEach(io.out);
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    if (json) io.out(JSON.stringify({ error: err.message, ...((err as { data?: object }).data ?? {}) }, null, 2));
    io.err(`mcpgw ${name}: ${err.message}`);
    return err.exitCode;
  }
}

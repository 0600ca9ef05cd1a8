import { createKeyring, parseMasterKeys, verifyMasterKeys, type MasterKey } from '@mcpgw/crypto';
import { createCiphertextRepo, createDb, createMasterKeyCheckRepo, type Db } from '@mcpgw/db';
import { optional, type Parsed } from './args.js';
import { CliError, EXIT } from './client.js';
import type { Output } from './commands.js';
import { rewrapAll, totalsByKeyId, type KeyCount } from './rewrap.js';

/**
 * Operator commands: they talk to the database directly, with the services' own DATABASE_URL,
 * DB_SCHEMA and MASTER_KEYS, because master keys never travel over the admin API.
 */
export interface OperatorContext {
  args: Parsed;
  env: Record<string, string | undefined>;
  /** Progress lines (stderr), so --json output stays one document. */
  progress(line: string): void;
}

export interface OperatorCommand {
  summary: string;
  usage: string;
  run(ctx: OperatorContext): Promise<Output>;
}

interface OperatorEnv {
  db: Db;
  keys: MasterKey[];
}

async function connect(env: Record<string, string | undefined>): Promise<OperatorEnv> {
  const url = env.DATABASE_URL;
  if (!url || !/^postgres(ql)?:\/\//.test(url)) throw new CliError('DATABASE_URL must be set to the postgres:// URL the services use', EXIT.usage);
  const schema = env.DB_SCHEMA || 'mcpgw';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new CliError('DB_SCHEMA must be a lower-case SQL identifier', EXIT.usage);
  if (!env.MASTER_KEYS) throw new CliError('MASTER_KEYS must be set (the new key first, then the old ones)', EXIT.usage);
  let keys: MasterKey[];
  try {
    keys = parseMasterKeys(env.MASTER_KEYS);
  } catch (err) {
    throw new CliError(`MASTER_KEYS is invalid: ${(err as Error).message}`, EXIT.usage);
  }
  return { db: createDb({ url, schema, poolMax: 2 }), keys };
}

/** Runs `fn` with the database; a database error becomes exit 3 with its message, never a stack. */
async function withDatabase<T>(env: Record<string, string | undefined>, fn: (e: OperatorEnv) => Promise<T>): Promise<T> {
  const e = await connect(env);
  try {
    const { rows } = await e.db.query<{ ok: boolean }>("SELECT to_regclass('master_key_checks') IS NOT NULL AS ok");
    if (!rows[0]?.ok) throw new CliError(`schema "${e.db.schema}" has no mcpgw tables of this version (start a service of this version once to migrate it)`, EXIT.usage);
    return await fn(e);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`database: ${(err as Error).message}`, EXIT.connection);
  } finally {
    await e.db.close();
  }
}

function countLines(counts: readonly KeyCount[], configured: readonly string[]): string[] {
  const totals = totalsByKeyId(counts);
  const ids = [...new Set([...configured, ...totals.keys()])];
  return ids.map((id) => {
    const n = totals.get(id) ?? 0;
    const detail = counts.filter((c) => c.keyId === id).map((c) => `${c.column} ${c.count}`).join(', ');
    const note = !configured.includes(id) ? ' (NOT in MASTER_KEYS: these values cannot be decrypted)' : n === 0 && id !== configured[0] ? ': can be removed from MASTER_KEYS' : '';
    return `key ${id}: ${n} value(s)${detail ? ` (${detail})` : ''}${note}`;
  });
}

const positiveInt = (v: string | undefined, name: string, fallback: number) => {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 10_000) throw new CliError(`--${name} must be a whole number from 1 to 10000`, EXIT.usage);
  return Number(v);
};

export const OPERATOR_COMMANDS: Record<string, OperatorCommand> = {
  rewrap: {
    summary: 'Move every stored ciphertext to the current (first) master key, online, in batches (operator: DATABASE_URL, DB_SCHEMA, MASTER_KEYS)',
    usage: 'rewrap [--batch-size 500] [--force]',
    async run({ args, env, progress }) {
      const batchSize = positiveInt(optional(args, 'batch-size'), 'batch-size', 500);
      return withDatabase(env, async ({ db, keys }) => {
        const checks = createMasterKeyCheckRepo(db.pool);
        const current = keys[0]!.id;
        // Values moved to a key the running services do not have would fail every decrypt there.
        // A service records a key's check value when it starts with it: no record, no service has it.
        if (!(await checks.find([current])).has(current) && args.flags.force !== true) {
          throw new CliError(
            `no service has started with key "${current}" yet: put it first in MASTER_KEYS of the gateway, mcp-proxy and admin portal and restart them, then run rewrap (or pass --force)`,
            EXIT.usage,
          );
        }
        try {
          await verifyMasterKeys(keys, checks);
        } catch (err) {
          throw new CliError((err as Error).message, EXIT.usage);
        }
        const report = await rewrapAll(
          { ciphertexts: createCiphertextRepo(db.pool), keyring: createKeyring(keys) },
          { batchSize, onBatch: (p) => progress(`${p.column}: ${p.rewrapped} rewrapped so far`) },
        );
        const text = [
          `rewrapped ${report.rewrapped} value(s) to key ${report.currentKeyId} in ${report.ms} ms`,
          ...(report.changedMeanwhile ? [`${report.changedMeanwhile} value(s) changed meanwhile and were left as they are (run again to check)`] : []),
          ...report.failed.map((f) => `FAILED ${f.column} ${f.key.join('/')}: ${f.error}`),
          ...countLines(report.remaining, keys.map((k) => k.id)),
        ];
        if (report.failed.length > 0) throw Object.assign(new CliError(`${report.failed.length} value(s) could not be rewrapped:\n${text.join('\n')}`, EXIT.api), { data: report });
        return { data: report, text };
      });
    },
  },
  'master-keys': {
    summary: 'How many stored values each master key id wraps, and which keys can be removed (operator: DATABASE_URL, DB_SCHEMA, MASTER_KEYS)',
    usage: 'master-keys',
    async run({ env }) {
      return withDatabase(env, async ({ db, keys }) => {
        const counts = await createCiphertextRepo(db.pool).countByKeyId();
        const totals = totalsByKeyId(counts);
        const data = { currentKeyId: keys[0]!.id, keys: [...new Set([...keys.map((k) => k.id), ...totals.keys()])].map((id) => ({ keyId: id, configured: keys.some((k) => k.id === id), values: totals.get(id) ?? 0 })), counts };
        return { data, text: countLines(counts, keys.map((k) => k.id)) };
      });
    },
  },
};

import { readFile, writeFile, mkdir, chmod } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { randomSecret } from '@mcpgw/crypto';

export interface StackSecrets {
  GATEWAY_SIGNING_SECRET: string;
  MASTER_KEYS: string;
}

/**
 * Secrets for a one-machine stack: taken from the environment when set, otherwise generated once
 * and kept in <data>/secrets.json (mode 600) so a restart can still read what it encrypted.
 * Production sets both variables; nothing here is a default secret.
 */
export async function loadOrCreateSecrets(dataDir: string, fromEnv: Partial<StackSecrets>): Promise<{ secrets: StackSecrets; created: boolean }> {
  const file = path.join(dataDir, 'secrets.json');
  let stored: Partial<StackSecrets> = {};
  let created = false;
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as Partial<StackSecrets>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (!stored.GATEWAY_SIGNING_SECRET || !stored.MASTER_KEYS) {
    stored = {
      GATEWAY_SIGNING_SECRET: stored.GATEWAY_SIGNING_SECRET ?? randomSecret(32),
      MASTER_KEYS: stored.MASTER_KEYS ?? `k1:${randomBytes(32).toString('base64')}`,
    };
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
    await chmod(file, 0o600);
    created = true;
  }
  return {
    secrets: {
      GATEWAY_SIGNING_SECRET: fromEnv.GATEWAY_SIGNING_SECRET ?? stored.GATEWAY_SIGNING_SECRET!,
      MASTER_KEYS: fromEnv.MASTER_KEYS ?? stored.MASTER_KEYS!,
    },
    created,
  };
}

import { Socket } from 'node:net';

const DEFAULT_URL = 'redis://127.0.0.1:6379';
let probe: Promise<string | null> | undefined;

function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.connect(Number(u.port || 6379), u.hostname, () => {
      s.write('PING\r\n');
      s.once('data', (d) => done(d.toString().startsWith('+PONG')));
    });
  });
}

/**
 * The Redis tests use (TEST_REDIS_URL, default redis://127.0.0.1:6379), or null when it does not
 * answer; Redis-only tests then skip and a line says why.
 */
export function testRedisUrl(): Promise<string | null> {
  probe ??= (async () => {
    const url = process.env.TEST_REDIS_URL ?? DEFAULT_URL;
    if (await reachable(url)) return url;
    process.stderr.write(`[test-support] Redis at ${url} is not reachable: Redis-only tests are skipped.\n`);
    return null;
  })();
  return probe;
}

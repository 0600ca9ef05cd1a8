import { redisHealth, type RedisClient } from '@mcpgw/rate-limit';
import { beyondCap, type DirectoryLimits, type SessionDirectory, type SessionRecord } from './session-directory.js';

export interface RedisSessionDirectoryOptions extends DirectoryLimits {
  /** Key prefix; one per installation (mcp-proxy uses `mcpgw:{DB_SCHEMA}:`). */
  prefix: string;
}

/** The directory is unreachable: the store serves what it holds in this process. */
export class SessionDirectoryUnavailableError extends Error {
  constructor(cause?: unknown) {
    super(`session directory unavailable${cause instanceof Error ? `: ${cause.message}` : ''}`, { cause });
  }
}

type PipelineResult = [Error | null, unknown][] | null;

/**
 * Session records in Redis, shared by every mcp-proxy replica.
 *
 * - `{prefix}mcp-session:{id}`: the record as JSON, expiring after the idle time; every use
 *   (`touch`) restarts it, so Redis itself ends idle sessions.
 * - `{prefix}mcp-user-sessions:{userId}`: a sorted set of the user's session ids scored by last
 *   use, for the per-user cap (members idle for longer than the idle time are pruned on add).
 *
 * Plain commands in pipelines (no scripts), one round trip per use and two when a session is
 * opened beyond the cap, so any single Redis (or a managed primary) works. The client is the
 * process's shared fail-fast one: no offline queue, and while it is known to be down commands are
 * not even tried (its health tracker), so a Redis outage costs requests no waiting.
 */
export function createRedisSessionDirectory(redis: RedisClient, options: RedisSessionDirectoryOptions): SessionDirectory {
  const health = redisHealth(redis);
  const recordKey = (id: string) => `${options.prefix}mcp-session:${id}`;
  const userKey = (userId: string) => `${options.prefix}mcp-user-sessions:${userId}`;
  const ttl = options.idleMs;

  async function run<T>(command: () => Promise<T>): Promise<T> {
    if (!health.usable()) throw new SessionDirectoryUnavailableError(new Error(`redis ${redis.status}`));
    health.begin();
    try {
      const result = await command();
      health.succeeded();
      return result;
    } catch (err) {
      health.failed(err);
      throw new SessionDirectoryUnavailableError(err);
    }
  }

  /** The results of a pipeline, or its first error. */
  function results(replies: PipelineResult): unknown[] {
    if (!replies) throw new Error('transaction aborted');
    for (const [err] of replies) if (err) throw err;
    return replies.map(([, value]) => value);
  }

  return {
    shared: true,

    add: (id, record) =>
      run(async () => {
        const now = Date.now();
        const users = userKey(record.owner.userId);
        const replies = results(
          await redis
            .multi()
            .set(recordKey(id), JSON.stringify(record), 'PX', ttl)
            .zadd(users, now, id)
            .zremrangebyscore(users, '-inf', `(${now - options.idleMs}`)
            .pexpire(users, ttl)
            .zrange(users, 0, -1, 'WITHSCORES')
            .exec(),
        );
        const flat = replies[4] as string[];
        const mine: { id: string; lastSeen: number }[] = [];
        for (let i = 0; i < flat.length; i += 2) mine.push({ id: flat[i]!, lastSeen: Number(flat[i + 1]) });
        const evicted = beyondCap(mine, options.maxPerUser, id);
        if (evicted.length > 0) {
          results(
            await redis
              .multi()
              .del(...evicted.map(recordKey))
              .zrem(users, ...evicted)
              .exec(),
          );
        }
        return evicted;
      }),

    get: (id) =>
      run(async () => {
        const json = await redis.get(recordKey(id));
        return json === null ? undefined : (JSON.parse(json) as SessionRecord);
      }),

    touch: (id, userId) =>
      run(async () => {
        const users = userKey(userId);
        const replies = results(
          await redis
            .pipeline()
            .pexpire(recordKey(id), ttl)
            .zadd(users, 'XX', Date.now(), id)
            .pexpire(users, ttl)
            .exec(),
        );
        return replies[0] === 1;
      }),

    update: (id, record) =>
      run(async () => {
        // XX: a session that ended meanwhile (DELETE, eviction, expiry) is not brought back.
        await redis.set(recordKey(id), JSON.stringify(record), 'PX', ttl, 'XX');
      }),

    remove: (id, userId) =>
      run(async () => {
        results(await redis.pipeline().del(recordKey(id)).zrem(userKey(userId), id).exec());
      }),
  };
}

import { Redis } from 'ioredis';
import type { Logger } from '@mcpgw/logger';

export type RedisClient = Redis;

export interface RedisClientOptions {
  url: string;
  /**
   * A command that takes longer fails: the backstop against a hung Redis. Limiters give up sooner
   * (RateLimiterOptions.redisTimeoutMs, 50 ms) with a deadline that tolerates a busy event loop.
   */
  commandTimeoutMs?: number;
  /** After a failed command, how long limiters skip Redis before they try it again. */
  suspendMs?: number;
}

/**
 * Whether limiters should ask Redis now. A failed command (refused, reset, timed out on a hung
 * server) suspends Redis for a short while, so during an outage only one request per interval pays
 * the command timeout and the others go to the insurance counters at once; the first command that
 * succeeds again ends the outage. One log line when an outage starts, one when it ends.
 */
export interface RedisHealth {
  /** True when a command may go to Redis now; call begin() before sending it. */
  usable(): boolean;
  /** A command is about to go; during an outage only one probe is in flight at a time. */
  begin(): void;
  failed(err: unknown): void;
  succeeded(): void;
  /** True between the first failure and the next success (or reconnection). */
  readonly down: boolean;
  /**
   * Outages since start: how many times limiters switched to the insurance counters (a stopped,
   * hung or slow Redis each count once per switch, however many decisions the outage took).
   */
  readonly outages: number;
}

const healthOf = new WeakMap<Redis, RedisHealth>();

function createRedisHealth(client: Redis, options: { suspendMs: number; logger?: Logger; label: string }): RedisHealth {
  let suspendedUntil = 0;
  let down = false;
  let probing = false;
  let wasReady = false;
  let outages = 0;
  const goDown = (err: unknown) => {
    if (!down) {
      outages += 1;
      options.logger?.warn('redis unavailable: rate limits fall back to in-process counters until it returns', {
        redis: options.label,
        err: (err as Error)?.message ?? String(err),
      });
    }
    down = true;
  };
  const goUp = () => {
    if (down) options.logger?.info('redis is back: shared counters in use again', { redis: options.label });
    down = false;
    probing = false;
    suspendedUntil = 0;
  };
  client.on('error', goDown);
  client.on('end', () => goDown(new Error('connection closed')));
  client.on('ready', () => {
    wasReady = true;
    goUp();
  });
  return {
    usable() {
      if (client.status !== 'ready') {
        // A lost connection is an outage from the first request that notices it, not only once a
        // reconnection attempt has failed.
        if (wasReady) goDown(new Error(`connection ${client.status}`));
        return false;
      }
      return Date.now() >= suspendedUntil && !(down && probing);
    },
    begin() {
      if (down) probing = true;
    },
    failed(err) {
      probing = false;
      suspendedUntil = Date.now() + options.suspendMs;
      goDown(err);
    },
    succeeded() {
      probing = false;
      if (down) goUp();
    },
    get down() {
      return down;
    },
    get outages() {
      return outages;
    },
  };
}

/** The health tracker of a client (one made by createRedisClient, or a plain one for other clients). */
export function redisHealth(client: Redis): RedisHealth {
  let health = healthOf.get(client);
  if (!health) {
    health = createRedisHealth(client, { suspendMs: 500, label: 'redis' });
    healthOf.set(client, health);
  }
  return health;
}

/**
 * An ioredis client that fails fast: no offline queue (commands error at once while disconnected,
 * so the insurance limiter takes over), a command timeout as a backstop, and endless background
 * reconnects. Its health tracker logs one line when Redis goes away and
 * one when it is back.
 */
export function createRedisClient(options: RedisClientOptions, logger: Logger): Redis {
  const client = new Redis(options.url, {
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  healthOf.set(client, createRedisHealth(client, { suspendMs: options.suspendMs ?? 500, logger, label: redact(options.url) }));
  return client;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis';
  }
}

/**
 * Resolves once `client` is connected, or after `maxMs` (it goes on connecting in the background).
 * A service gives Redis this moment before serving: until then its fail-closed limiters refuse, and
 * sessions or counters would be kept by this instance alone.
 */
export function waitUntilReady(client: Redis, maxMs = 5_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, maxMs);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

import { Redis } from 'ioredis';
import type { Logger } from '@mcpgw/logger';

export type RedisClient = Redis;

export interface RedisClientOptions {
  url: string;
  /** A command that takes longer fails, so no request ever waits on a slow or hung Redis. */
  commandTimeoutMs?: number;
}

/**
 * An ioredis client that fails fast: no offline queue (commands error at once while disconnected,
 * so the insurance limiter takes over), a short command timeout, and endless background reconnects.
 * Logs one line when Redis goes away and one when it is back.
 */
export function createRedisClient(options: RedisClientOptions, logger: Logger): Redis {
  const client = new Redis(options.url, {
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs ?? 50,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let healthy = true;
  client.on('ready', () => {
    if (!healthy) logger.info('redis is back: shared counters in use again', { redis: redact(options.url) });
    healthy = true;
  });
  client.on('error', (err: Error) => {
    if (healthy) {
      logger.warn('redis unavailable: rate limits fall back to in-process counters until it returns', {
        redis: redact(options.url),
        err: err.message,
      });
    }
    healthy = false;
  });
  client.on('end', () => {
    healthy = false;
  });
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

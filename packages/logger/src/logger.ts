import winston from 'winston';
import { redact } from './redact.js';

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where log lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  stream?: NodeJS.WritableStream;
}

export type Logger = winston.Logger;

const SKIP = new Set(['level', 'message', 'timestamp', 'service']);

const redactFormat = winston.format((info) => {
  // The record's own fields go through redact as one object, so a top-level `password` or
  // `authorization` is masked by its name just like a nested one.
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(info)) if (!SKIP.has(key)) fields[key] = info[key];
  const masked = redact(fields) as Record<string, unknown>;
  for (const key of Object.keys(masked)) info[key] = masked[key];
  if (typeof info.message === 'string') info.message = redact(info.message) as string;
  return info;
});

/** winston JSON logger: timestamp, level, service, message and fields; secrets masked first. */
export function createLogger(options: LoggerOptions): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: { service: options.service },
    format: winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
}

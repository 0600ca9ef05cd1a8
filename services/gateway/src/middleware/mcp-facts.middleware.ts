import type { NextFunction, Request, Response } from 'express';
import { HEADER, INTERNAL_RESPONSE_HEADERS } from '@mcpgw/identity';
import { upstreamFor } from '../domain/routing.js';

/** What mcp-proxy said a request was about (its internal response headers). */
export interface McpFacts {
  mcpMethod: string | null;
  serverId: string | null;
  tool: string | null;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by takeMcpFacts when the response from mcp-proxy carried them. */
      mcpFacts?: McpFacts;
    }
  }
}

const single = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : null);

/**
 * Reads mcp-proxy's internal x-mcpgw-* response headers (MCP method, server, tool) for the
 * analytics, and removes them, and any of that name from any other upstream, before the response
 * head is written: callers never see them. Only a response to a path bound for mcp-proxy is
 * believed.
 */
export function takeMcpFacts() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const trusted = upstreamFor(req.path) === 'mcp-proxy';
    const writeHead = res.writeHead as (...args: unknown[]) => Response;
    res.writeHead = function (this: Response, ...args: unknown[]) {
      if (trusted) {
        req.mcpFacts = {
          mcpMethod: single(res.getHeader(HEADER.mcpgwMcpMethod)),
          serverId: single(res.getHeader(HEADER.mcpgwServer)),
          tool: single(res.getHeader(HEADER.mcpgwTool)),
        };
      }
      for (const name of INTERNAL_RESPONSE_HEADERS) res.removeHeader(name);
      // writeHead(status, [message], headers) may also carry headers of its own.
      const headers = args.find((a, i) => i > 0 && typeof a === 'object' && a !== null);
      if (headers && !Array.isArray(headers)) {
        for (const key of Object.keys(headers)) {
          if ((INTERNAL_RESPONSE_HEADERS as readonly string[]).includes(key.toLowerCase())) delete (headers as Record<string, unknown>)[key];
        }
      }
      return writeHead.apply(this, args);
    } as Response['writeHead'];
    next();
  };
}

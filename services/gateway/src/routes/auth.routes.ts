import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { HEADER } from '@mcpgw/identity';
import type { LocalAccountService } from '../domain/auth/local-account.service.js';
import { clientIp } from '../domain/client-ip.js';
import { bodyOf, parseSmallBody } from './request-body.js';

const email = z.string().trim().min(3).max(320).regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');
const password = z.string().min(1).max(1024);
const newPassword = z.string().min(12, 'must be at least 12 characters').max(1024);

const Login = z.union([z.object({ email, password }), z.object({ username: email, password }).transform((v) => ({ email: v.username, password: v.password }))]);
const Refresh = z.object({ refresh_token: z.string().min(1).max(512) });
const Setup = z.object({ email, password: newPassword, name: z.string().trim().min(1).max(200).default('Administrator') });

export interface AuthRouteDeps {
  accounts: LocalAccountService;
}

/**
 * Local accounts, before authentication: POST /auth/login, POST /auth/refresh and first-run setup
 * (GET/POST /auth/setup). /auth/me and /auth/logout (auth-session.routes.ts) come after it. Only
 * these paths are the gateway's; /auth itself is Open WebUI's sign-in page and passes through.
 */
export function registerAuthRoutes(router: Router, deps: AuthRouteDeps): void {
  const ctx = (req: Parameters<RequestHandler>[0]) => ({ clientIp: clientIp(req), requestId: req.requestId });
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader(HEADER.cacheControl, 'no-store');
    res.setHeader(HEADER.pragma, 'no-cache');
    next();
  };

  router.post('/auth/login', noStore, ...parseSmallBody, async (req, res) => {
    res.json(await deps.accounts.login(bodyOf(Login, req.body), ctx(req)));
  });

  router.post('/auth/refresh', noStore, ...parseSmallBody, async (req, res) => {
    res.json(await deps.accounts.refresh(bodyOf(Refresh, req.body).refresh_token, ctx(req)));
  });

  router.get('/auth/setup', noStore, async (_req, res) => {
    res.json({ setupRequired: await deps.accounts.setupRequired() });
  });

  router.post('/auth/setup', noStore, ...parseSmallBody, async (req, res) => {
    res.status(201).json(await deps.accounts.setup(bodyOf(Setup, req.body), ctx(req)));
  });
}

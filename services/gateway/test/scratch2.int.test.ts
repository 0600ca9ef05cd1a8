import { Agent, request } from 'node:http';
import express from 'express';
import { it } from 'vitest';
import { listen } from '@mcpgw/http';

it('scratch drain resets', async () => {
  const app = express();
  app.use(express.json());
  app.post('/mcp', (req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive' });
      res.write(`data: ${JSON.stringify(req.body)}\n\n`);
      setTimeout(() => res.end(), 5);
    }, 5 + Math.random() * 20);
  });
  const server = await listen(app, { host: '127.0.0.1', port: 0 });
  const agent = new Agent({ keepAlive: true, maxSockets: 512, timeout: 3000 });
  const errors: string[] = [];
  let ok = 0;
  const one = () => new Promise<void>((resolve) => {
    const body = JSON.stringify({ x: 1 });
    const req = request(`${server.url}/mcp`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => { ok++; resolve(); });
    });
    req.on('error', (e: NodeJS.ErrnoException) => { errors.push(`${e.code} reused=${req.reusedSocket}`); resolve(); });
    req.end(body);
  });
  const pending: Promise<void>[] = [];
  const t0 = Date.now();
  let drained: unknown;
  setTimeout(() => { void server.drain().then((r) => (drained = r)); }, 500);
  while (Date.now() - t0 < 1500) { pending.push(one()); await new Promise((r) => setTimeout(r, 5)); }
  await Promise.all(pending);
  console.log('RESULT', JSON.stringify({ ok, errors: errors.length, sample: [...new Set(errors)], drained }));
  agent.destroy();
});

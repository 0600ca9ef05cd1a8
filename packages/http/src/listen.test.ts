import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { listen } from './listen.js';

function get(url: string, agent: Agent): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function getWithHeaders(url: string, agent: Agent): Promise<{ status: number; connection: string | undefined; draining: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, draining: res.headers['x-mcpgw-draining'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('listen(): drain', () => {
  it('refuses new connections, serves requests on open ones with Connection: close, waits for requests in flight', async () => {
    const server = await listen(
      (req, res) => {
        const ms = req.url === '/slow' ? 300 : 0;
        // As the MCP SDK does on its SSE responses: keep-alive asked for by the handler itself.
        if (req.url === '/own-keep-alive') res.writeHead(200, { Connection: 'keep-alive' });
        setTimeout(() => res.end(req.url), ms);
      },
      { host: '127.0.0.1', port: 0 },
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 1, timeout: 500 });
    expect((await get(`${server.url}/warm`, agent)).connection).toBe('keep-alive');
    const agent2 = new Agent({ keepAlive: true, maxSockets: 1, timeout: 500 });
    expect((await get(`${server.url}/own-keep-alive`, agent2)).connection).toBe('keep-alive');
    const other = new Agent({ keepAlive: true });
    const slow = get(`${server.url}/slow`, other);
    await new Promise((r) => setTimeout(r, 50));

    const drained = server.drain({ graceMs: 5_000, idleCloseMs: 4_000, announceMs: 200, markResponses: true });
    expect(server.draining).toBe(true);
    // While it announces the drain, a new connection is still served, marked.
    const announced = await getWithHeaders(`${server.url}/during-announce`, new Agent());
    expect(announced).toMatchObject({ status: 200, connection: 'close', draining: '1' });
    await new Promise((r) => setTimeout(r, 250));
    // On the idle keep-alive connection: served, and told to close it.
    const onOpen = await get(`${server.url}/again`, agent);
    expect(onOpen).toMatchObject({ status: 200, body: '/again', connection: 'close' });
    expect((await get(`${server.url}/own-keep-alive`, agent2)).connection).toBe('close');
    agent2.destroy();
    // A new connection is refused.
    await expect(get(`${server.url}/new`, new Agent())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await slow).toMatchObject({ status: 200, body: '/slow', connection: 'close' });
    const report = await drained;
    expect(report.cut).toBe(0);
    expect(report.ms).toBeLessThan(4_000);
    agent.destroy();
    other.destroy();
  });

  it('cuts what still runs at the deadline', async () => {
    const server = await listen(() => undefined, { host: '127.0.0.1', port: 0 });
    const hanging = get(`${server.url}/never`, new Agent()).catch((err: Error) => err);
    await new Promise((r) => setTimeout(r, 50));
    const report = await server.drain({ graceMs: 200, idleCloseMs: 100, announceMs: 0 });
    expect(report.cut).toBe(1);
    expect(await hanging).toBeInstanceOf(Error);
  });
});

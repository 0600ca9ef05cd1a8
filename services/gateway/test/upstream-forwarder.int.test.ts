import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { assignRequestId, handleErrors, listen, type ListeningServer } from '@mcpgw/http';
import { HEADER } from '@mcpgw/identity';
import { freePort, silentLogger } from '@mcpgw/test-support';
import { createUpstreamForwarder, instanceForSession, instanceTag, type Forwarder } from '../src/routes/upstream-forwarder.js';

interface Instance {
  name: string;
  url: string;
  seen: { method: string; body: string; session?: string; tag?: string }[];
  close(): Promise<void>;
}

/** A stand-in for mcp-proxy: records what it got, answers with its name (or as `behave` says). */
async function instance(name: string, behave?: (req: IncomingMessage, res: ServerResponse, body: string) => boolean): Promise<Instance> {
  const seen: Instance['seen'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, body, session: req.headers[HEADER.mcpSessionId] as string | undefined, tag: req.headers[HEADER.mcpgwInstance] as string | undefined });
      if (behave?.(req, res, body)) return;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ instance: name, body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    name,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('upstream forwarder (gateway → mcp-proxy / admin-portal instances)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function front(urls: string[], maxBodyBytes = 1024): Promise<{ url: string; forwarder: Forwarder }> {
    const forwarder = createUpstreamForwarder({ name: 'mcp-proxy', urls, maxBodyBytes, logger: silentLogger('gateway') });
    const app = express();
    app.use(assignRequestId());
    app.use((req, res, next) => forwarder.handle(req, res, next));
    app.use(handleErrors(silentLogger('gateway'), () => 'json-rpc'));
    const server: ListeningServer = await listen(app, { host: '127.0.0.1', port: 0 });
    cleanup.push(() => server.close(100), () => forwarder.close());
    return { url: server.url, forwarder };
  }

  const post = (url: string, body: string, session?: string) =>
    fetch(`${url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', ...(session ? { [HEADER.mcpSessionId]: session } : {}) }, body });

  it('spreads requests without a session; keeps every request of one session on one instance', async () => {
    const [a, b] = await Promise.all([instance('a'), instance('b')]);
    cleanup.push(a.close, b.close);
    const { url } = await front([a.url, b.url]);
    for (let i = 0; i < 10; i++) await (await post(url, `{"n":${i}}`)).text();
    expect(a.seen.length).toBe(5);
    expect(b.seen.length).toBe(5);
    for (const session of ['s-1', 's-2', 's-3', 's-4']) {
      const answers = new Set<string>();
      for (let i = 0; i < 4; i++) answers.add(((await (await post(url, '{}', session)).json()) as { instance: string }).instance);
      expect(answers.size).toBe(1);
      const expected = instanceForSession(session, [a, b].map((x) => ({ url: new URL(x.url), name: x.name })))!.name;
      expect([...answers]).toEqual([expected]);
    }
  });

  it("tells each instance its tag (never the caller's), and sends a tagged session to the instance of its tag", async () => {
    const [a, b] = await Promise.all([instance('a'), instance('b')]);
    cleanup.push(a.close, b.close);
    const { url } = await front([a.url, b.url]);
    await (await fetch(`${url}/mcp`, { method: 'POST', headers: { [HEADER.mcpgwInstance]: 'forged' }, body: '{}' })).text();
    expect([...a.seen, ...b.seen].map((x) => x.tag)).toEqual([expect.stringMatching(/^[0-9a-f]{8}$/)]);
    for (const target of [a, b]) {
      for (let i = 0; i < 3; i++) {
        const answer = (await (await post(url, '{}', `${instanceTag(target.url)}.random-${i}`)).json()) as { instance: string };
        expect(answer.instance).toBe(target.name);
      }
    }
    expect(a.seen.filter((x) => x.session).every((x) => x.tag === instanceTag(a.url))).toBe(true);
  });

  it('sends a request to another instance when the connection is refused, body intact', async () => {
    const b = await instance('b');
    cleanup.push(b.close);
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { url } = await front([dead, b.url]);
    for (let i = 0; i < 4; i++) {
      const res = await post(url, `{"call":${i}}`, `session-${i}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ instance: 'b', body: `{"call":${i}}` });
    }
    expect(b.seen).toHaveLength(4);
  });

  it('retries a 503 marked draining (refused before anything ran) elsewhere, and the marker never reaches the caller', async () => {
    const a = await instance('a', (req, res) => {
      if (req.method !== 'GET') return false;
      res.writeHead(503, { [HEADER.mcpgwDraining]: '1', connection: 'close' }).end();
      return true;
    });
    const b = await instance('b');
    cleanup.push(a.close, b.close);
    const { url } = await front([a.url, b.url]);
    const sessionOnA = ['x', 'y', 'z', 'w', 'v'].find((s) => instanceForSession(s, [{ url: new URL(a.url) }, { url: new URL(b.url) }])!.url.href === new URL(a.url).href)!;
    const res = await fetch(`${url}/mcp`, { headers: { [HEADER.mcpSessionId]: sessionOnA } });
    expect(res.status).toBe(200);
    expect(res.headers.get(HEADER.mcpgwDraining)).toBeNull();
    expect(((await res.json()) as { instance: string }).instance).toBe('b');
    expect(a.seen.map((s) => s.method)).toEqual(['GET']);
  });

  it('never repeats a POST that reached an instance whose connection then broke (a tools/call may have run)', async () => {
    const a = await instance('a', (req) => {
      req.socket.destroy();
      return true;
    });
    const b = await instance('b');
    cleanup.push(a.close, b.close);
    const { url } = await front([a.url, b.url]);
    const sessionOnA = ['x', 'y', 'z', 'w', 'v'].find((s) => instanceForSession(s, [{ url: new URL(a.url) }, { url: new URL(b.url) }])!.url.href === new URL(a.url).href)!;
    const res = await post(url, '{"jsonrpc":"2.0","id":1,"method":"tools/call"}', sessionOnA);
    expect(res.status).toBe(502);
    expect(a.seen).toHaveLength(1);
    expect(b.seen).toHaveLength(0);
  });

  it('answers 502 when no instance answers, and 413 for a chunked body over the limit', async () => {
    const { url } = await front([`http://127.0.0.1:${await freePort()}`], 64);
    const res = await post(url, '{}');
    expect(res.status).toBe(502);
    const b = await instance('b');
    cleanup.push(b.close);
    const small = await front([b.url], 64);
    const big = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('x'.repeat(100)));
        controller.close();
      },
    });
    const tooLarge = await fetch(`${small.url}/mcp`, { method: 'POST', body: big, duplex: 'half' } as RequestInit);
    expect(tooLarge.status).toBe(413);
    expect(b.seen).toHaveLength(0);
  });

  it('endStreams() ends the GET streams going through it, and new ones at once', async () => {
    const sse = await instance('sse', (req, res) => {
      if (req.method !== 'GET') return false;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
      return true;
    });
    cleanup.push(sse.close);
    const { url, forwarder } = await front([sse.url]);
    const stream = await fetch(`${url}/mcp`);
    const reader = stream.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain(': open');
    expect(forwarder.endStreams()).toBe(1);
    expect((await reader.read()).done).toBe(true);
    const later = await fetch(`${url}/mcp`);
    expect(later.status).toBe(200);
    expect(await later.text()).toBe('');
  });
});

// A closed-loop flood in a process of its own (so the test process measuring the quiet tenant is
// not slowed down by it): `concurrency` callers POST to `url` with the given keys, one request
// after another, for `ms`; prints the tally as one JSON line.
import { Agent, request } from 'node:http';

const { url, keys, concurrency, ms } = JSON.parse(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const tally = { requests: 0, ok: 0, refused429: 0, other: 0, sample429Headers: null };
const body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}';
const send = (key) =>
  new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => {
        tally.requests += 1;
        if (res.statusCode === 200) tally.ok += 1;
        else if (res.statusCode === 429) {
          tally.refused429 += 1;
          tally.sample429Headers ??= { 'retry-after': res.headers['retry-after'], ratelimit: res.headers.ratelimit, 'ratelimit-policy': res.headers['ratelimit-policy'] };
        } else tally.other += 1;
        resolve();
      });
    });
    req.on('error', () => {
      tally.other += 1;
      resolve();
    });
    req.end(body);
  });
const until = Date.now() + ms;
await Promise.all(
  Array.from({ length: concurrency }, async (_, i) => {
    while (Date.now() < until) await send(keys[i % keys.length]);
  }),
);
agent.destroy();
process.stdout.write(`${JSON.stringify(tally)}\n`);

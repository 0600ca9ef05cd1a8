import { describe, expect, it } from 'vitest';
import { classifyAddress, urlPolicyRefusal, type Lookup } from './url-policy.js';

const STRICT = { allowLoopback: false, allowPrivate: true };
const DEV = { allowLoopback: true, allowPrivate: true };
/** A resolver answering fixed addresses: stands in for a DNS name an attacker points anywhere. */
const resolvesTo = (...addresses: string[]): Lookup => async () => addresses.map((address) => ({ address }));

describe('classifyAddress', () => {
  it.each([
    ['169.254.169.254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['127.0.0.1', 'loopback'],
    ['127.3.2.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['10.1.2.3', 'private'],
    ['172.20.0.5', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12::1', 'private'],
    ['8.8.8.8', 'public'],
    ['2606:4700::1111', 'public'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });
});

describe('urlPolicyRefusal', () => {
  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/mcp',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://127.0.0.1:5432/',
    'http://127.0.0.1:6379/',
    'http://2130706433/', // 127.0.0.1 as one number
    'http://0x7f.1/',
    'http://[::1]:8000/mcp',
    'http://[::ffff:127.0.0.1]/',
    'http://0.0.0.0:8000/',
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_INFO',
    'ftp://example.com/',
    'http://user:pass@example.com/',
  ])('refuses %s in production', async (url) => {
    expect(await urlPolicyRefusal(url, STRICT, resolvesTo('93.184.215.14'))).not.toBeNull();
  });

  it('refuses a name that resolves to a loopback or metadata address (one bad answer is enough)', async () => {
    expect(await urlPolicyRefusal('http://mcp.example.test/', STRICT, resolvesTo('93.184.215.14', '127.0.0.1'))).toMatch(/resolves to 127\.0\.0\.1/);
    expect(await urlPolicyRefusal('http://rebind.example.test/', DEV, resolvesTo('169.254.169.254'))).toMatch(/metadata/);
  });

  it('resolves localhost for real and refuses it unless loopback is allowed', async () => {
    expect(await urlPolicyRefusal('http://localhost:8000/mcp', STRICT)).toMatch(/loopback/);
    expect(await urlPolicyRefusal('http://localhost:8000/mcp', DEV)).toBeNull();
  });

  it('allows public and private addresses, and loopback in dev mode; metadata never', async () => {
    expect(await urlPolicyRefusal('https://mcp.example.test/mcp', STRICT, resolvesTo('93.184.215.14'))).toBeNull();
    expect(await urlPolicyRefusal('http://10.0.0.7:8080/mcp', STRICT)).toBeNull();
    expect(await urlPolicyRefusal('http://10.0.0.7:8080/mcp', { allowLoopback: false, allowPrivate: false })).toMatch(/private/);
    expect(await urlPolicyRefusal('http://127.0.0.1:8000/mcp', DEV)).toBeNull();
    expect(await urlPolicyRefusal('http://169.254.169.254/', DEV)).toMatch(/metadata/);
  });

  it('lets a name that does not resolve through (checked again at connect time)', async () => {
    expect(await urlPolicyRefusal('http://nowhere.invalid/', STRICT, async () => { throw new Error('ENOTFOUND'); })).toBeNull();
  });
});

/**
 * The URL fetcher's refusals, with no network at all: the address classifier as a pure function,
 * and fetches through a resolver and a connector that only record what would have been contacted.
 */
import { describe, expect, it } from 'vitest';
import { isLoopbackAddress, isPublicAddress } from '../../src/sources/fetch/addresses.ts';
import { type FetchedResponse, type FetchNetwork, fetchDocument } from '../../src/sources/fetch/fetchDocument.ts';

describe('which addresses are public', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private 10/8'],
    ['172.16.0.1', 'private 172.16/12'],
    ['172.31.255.254', 'private 172.16/12'],
    ['192.168.1.1', 'private 192.168/16'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'carrier-grade NAT 100.64/10'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['::1', 'IPv6 loopback'],
    ['fd12:3456::1', 'IPv6 unique-local'],
    ['fc00::1', 'IPv6 unique-local'],
    ['fe80::1', 'IPv6 link-local'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata, hex form'],
    ['2002:7f00:1::', '6to4 carrying 127.0.0.1'],
    ['64:ff9b::a00:1', 'NAT64 carrying 10.0.0.1'],
    ['not-an-address', 'not an address'],
  ])('%s is refused (%s)', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:93.184.215.14'])('%s is public', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it('loopback is told apart, for tests that allow it', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('10.0.0.1')).toBe(false);
  });
});

/** A network that resolves from a table and answers from a script, recording every connection it would have opened. */
function recordingNetwork(dns: Record<string, string[]>, responses: Record<string, Partial<FetchedResponse> & { text?: string }>) {
  const connected: string[] = [];
  const network: FetchNetwork = {
    resolve: async (host) => dns[host] ?? [],
    connect: async (url, address) => {
      connected.push(`${address} ${url.href}`);
      const response = responses[url.href] ?? { status: 404 };
      const text = response.text ?? '';
      return {
        status: response.status ?? 200,
        location: response.location,
        contentType: response.contentType ?? 'text/html; charset=utf-8',
        body: (async function* () {
          yield new TextEncoder().encode(text);
        })(),
        cancel: () => undefined,
      };
    },
  };
  return { network, connected };
}

const limits = { timeoutMs: 5_000, maxBytes: 1_000, maxRedirects: 2 };

describe('fetching a URL', () => {
  it('a host that resolves to a private address is refused before anything is connected', async () => {
    const { network, connected } = recordingNetwork({ 'intranet.example.com': ['10.0.0.5'] }, {});
    await expect(fetchDocument('https://intranet.example.com/wiki', network, limits)).rejects.toThrow(
      'intranet.example.com points at 10.0.0.5, which is not a public internet address',
    );
    expect(connected).toEqual([]);
  });

  it('a host with one public and one private answer is refused (it could be steered to the private one)', async () => {
    const { network, connected } = recordingNetwork({ 'mixed.example.com': ['93.184.215.14', '192.168.0.10'] }, {});
    await expect(fetchDocument('http://mixed.example.com/', network, limits)).rejects.toThrow('192.168.0.10');
    expect(connected).toEqual([]);
  });

  it('address literals are checked too, bracketed IPv6 included', async () => {
    const { network, connected } = recordingNetwork({}, {});
    await expect(fetchDocument('http://169.254.169.254/latest/meta-data/', network, limits)).rejects.toThrow('169.254.169.254');
    await expect(fetchDocument('http://[::ffff:127.0.0.1]:8080/', network, limits)).rejects.toThrow('not a public internet address');
    await expect(fetchDocument('http://[fd00::1]/', network, limits)).rejects.toThrow('fd00::1');
    expect(connected).toEqual([]);
  });

  it('a redirect to a private address is refused before it is followed', async () => {
    const { network, connected } = recordingNetwork(
      { 'public.example.com': ['93.184.215.14'], 'internal.example.com': ['172.20.0.3'] },
      { 'https://public.example.com/start': { status: 302, location: 'http://internal.example.com/admin' } },
    );
    await expect(fetchDocument('https://public.example.com/start', network, limits)).rejects.toThrow('internal.example.com points at 172.20.0.3');
    expect(connected).toEqual(['93.184.215.14 https://public.example.com/start']);
  });

  it('connects to the address it checked, follows a bounded number of redirects, and reads a page', async () => {
    const { network, connected } = recordingNetwork(
      { 'a.example.com': ['93.184.215.14'], 'b.example.com': ['2606:4700::6810:1'] },
      {
        'https://a.example.com/': { status: 301, location: 'https://b.example.com/article' },
        'https://b.example.com/article': { status: 200, text: '<p>Hello</p>' },
        'https://a.example.com/loop': { status: 302, location: '/loop2' },
        'https://a.example.com/loop2': { status: 302, location: '/loop3' },
        'https://a.example.com/loop3': { status: 302, location: '/loop4' },
      },
    );
    const page = await fetchDocument('https://a.example.com/', network, limits);
    expect(page).toMatchObject({ url: 'https://b.example.com/article', contentType: 'text/html; charset=utf-8' });
    expect(new TextDecoder().decode(page.bytes)).toBe('<p>Hello</p>');
    expect(connected).toEqual(['93.184.215.14 https://a.example.com/', '2606:4700::6810:1 https://b.example.com/article']);
    await expect(fetchDocument('https://a.example.com/loop', network, limits)).rejects.toThrow('redirects more than 2 times');
  });

  it('refuses other schemes, credentials, unreadable types and bodies over the size limit', async () => {
    const { network } = recordingNetwork(
      { 'c.example.com': ['93.184.215.14'] },
      {
        'https://c.example.com/app.exe': { status: 200, contentType: 'application/octet-stream' },
        'https://c.example.com/huge': { status: 200, text: 'x'.repeat(2_000) },
        'https://c.example.com/gone': { status: 404 },
      },
    );
    await expect(fetchDocument('file:///etc/passwd', network, limits)).rejects.toThrow('file: URLs are not fetched');
    await expect(fetchDocument('https://user:pw@c.example.com/', network, limits)).rejects.toThrow('user name or password');
    await expect(fetchDocument('https://c.example.com/app.exe', network, limits)).rejects.toThrow('is application/octet-stream');
    await expect(fetchDocument('https://c.example.com/huge', network, limits)).rejects.toThrow('larger than 1,000 bytes');
    await expect(fetchDocument('https://c.example.com/gone', network, limits)).rejects.toThrow('answered HTTP 404');
    await expect(fetchDocument('https://nowhere.example.com/', network, limits)).rejects.toThrow('could not be found');
  });

  it('loopback is reachable only when the test setting allows it', async () => {
    const { network, connected } = recordingNetwork({ localhost: ['127.0.0.1'] }, { 'http://localhost:8080/': { status: 200, text: 'hi' } });
    await expect(fetchDocument('http://localhost:8080/', network, limits)).rejects.toThrow('not a public internet address');
    expect(connected).toEqual([]);
    await expect(fetchDocument('http://localhost:8080/', network, { ...limits, allowLoopback: true })).resolves.toMatchObject({
      url: 'http://localhost:8080/',
    });
    const { network: other } = recordingNetwork({ 'lan.example.com': ['192.168.1.2'] }, {});
    await expect(fetchDocument('http://lan.example.com/', other, { ...limits, allowLoopback: true })).rejects.toThrow('192.168.1.2');
  });
});

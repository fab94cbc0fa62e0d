/** discord.js's REST client against a local server that fails with 503 before it succeeds. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DefaultRestOptions, REST, type RESTOptions } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay, withBackoff } from '../../src/discord/retry.ts';

let server: Server | undefined;

afterEach(() => {
  server?.close();
  server = undefined;
});

async function flakyServer(failures: number): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  server = createServer((_request, response) => {
    hits++;
    const failing = hits <= failures;
    response.writeHead(failing ? 503 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(failing ? { message: 'Service Unavailable', code: 0 } : { url: 'wss://gateway.example' }));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/api`, hits: () => hits };
}

describe('REST retries', () => {
  it('wait longer after each 5xx, then succeed', async () => {
    const { url, hits } = await flakyServer(3);
    const waits: number[] = [];
    const makeRequest = withBackoff(DefaultRestOptions.makeRequest as RESTOptions['makeRequest'], {
      baseMs: 500,
      maxMs: 8_000,
      random: () => 1,
      sleep: async (ms) => void waits.push(ms),
    });
    const rest = new REST({ api: url, retries: 4, makeRequest }).setToken('test-token');
    expect(await rest.get('/gateway')).toEqual({ url: 'wss://gateway.example' });
    expect(hits()).toBe(4);
    expect(waits).toEqual([500, 1000, 2000]);
  });

  it('jitters each wait below its ceiling, and caps it', () => {
    const options = { baseMs: 500, maxMs: 8_000 };
    expect(backoffDelay(0, { ...options, random: () => 0.5 })).toBe(250);
    expect(backoffDelay(10, { ...options, random: () => 1 })).toBe(8_000);
    expect(backoffDelay(3, { ...options, random: () => 0 })).toBe(0);
  });
});

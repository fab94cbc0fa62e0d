import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { FetchedResponse, FetchNetwork } from './fetchDocument.ts';

/**
 * The real network: DNS through the system resolver, and HTTP(S) connections pinned to the
 * address that was checked, so a second DNS answer (DNS rebinding) cannot redirect the request.
 * TLS still verifies the certificate against the host name.
 */
export const systemNetwork: FetchNetwork = {
  async resolve(host) {
    return (await lookup(host, { all: true, verbatim: true })).map((answer) => answer.address);
  },
  connect(url, address, signal) {
    const pinned: LookupFunction = (_host, options, callback) => {
      const family = address.includes(':') ? 6 : 4;
      if ((options as { all?: boolean }).all)
        (callback as (error: null, addresses: { address: string; family: number }[]) => void)(null, [{ address, family }]);
      else callback(null, address, family);
    };
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<FetchedResponse>((resolve, reject) => {
      const request = client.get(
        url,
        {
          lookup: pinned,
          signal,
          headers: { 'user-agent': 'Docent/0.1 (a team question-answering bot)', accept: 'text/html, text/plain, text/markdown, application/pdf, */*;q=0.1' },
        },
        (response) => {
          resolve({
            status: response.statusCode ?? 0,
            location: response.headers.location,
            contentType: response.headers['content-type'],
            body: response,
            cancel: () => response.destroy(),
          });
        },
      );
      request.on('error', reject);
    });
  },
};

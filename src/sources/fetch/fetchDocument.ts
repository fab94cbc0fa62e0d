import { isLoopbackAddress, isPublicAddress } from './addresses.ts';

/** A response as the fetcher needs it: status, the headers it reads, and the body as it arrives. */
export interface FetchedResponse {
  readonly status: number;
  readonly location?: string;
  readonly contentType?: string;
  readonly body: AsyncIterable<Uint8Array>;
  /** Stops reading (the body was too large, or not wanted). */
  cancel(): void;
}

/** The two steps that touch the network, injected so tests can see what would be contacted without contacting it. */
export interface FetchNetwork {
  /** Every address a host name resolves to. */
  resolve(host: string): Promise<string[]>;
  /** Opens `url`, connecting to `address` only (never resolving the host again). */
  connect(url: URL, address: string, signal: AbortSignal): Promise<FetchedResponse>;
}

export interface FetchLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly maxRedirects: number;
  /** Tests serve pages on 127.0.0.1; nothing else should ever let a URL reach loopback. */
  readonly allowLoopback?: boolean;
}

export interface FetchedDocument {
  /** The address the document was finally served from, after redirects. */
  readonly url: string;
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

/** A URL Docent will not fetch, or a fetch that failed; the message is shown to the admin as is. */
export class FetchError extends Error {
  override name = 'FetchError';
}

/** Media types Docent can read, and the file extension each is read as. */
const READABLE_TYPES: Record<string, string> = {
  'text/html': '.html',
  'application/xhtml+xml': '.html',
  'text/plain': '.txt',
  'text/markdown': '.md',
  'application/pdf': '.pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': '.docx',
};

/** The extension a fetched document is read as, from its content type. */
export function extensionFor(contentType: string): string | undefined {
  return READABLE_TYPES[contentType.split(';')[0]!.trim().toLowerCase()];
}

function checkedUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FetchError(`${text} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FetchError(`${url.protocol} URLs are not fetched; give an http:// or https:// address`);
  if (url.username || url.password) throw new FetchError('URLs with a user name or password are not fetched');
  return url;
}

/** The address to connect to for `url`, refusing any host that is, or resolves to, a non-public address. */
async function publicAddress(url: URL, network: FetchNetwork, allowLoopback: boolean): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = /^[\d.]+$|:/.test(host) ? [host] : await network.resolve(host).catch(() => []);
  if (addresses.length === 0) throw new FetchError(`${url.host} could not be found (DNS)`);
  const allowed = (address: string) => isPublicAddress(address) || (allowLoopback && isLoopbackAddress(address));
  // Every answer must be public: a name that resolves to one public and one private address could be steered to the private one.
  const refused = addresses.find((address) => !allowed(address));
  if (refused !== undefined) throw new FetchError(`${url.host} points at ${refused}, which is not a public internet address; Docent only fetches public pages`);
  return addresses[0]!;
}

async function readBody(response: FetchedResponse, maxBytes: number, url: URL): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of response.body) {
    size += part.byteLength;
    if (size > maxBytes) {
      response.cancel();
      throw new FetchError(`${url.href} is larger than ${maxBytes.toLocaleString('en')} bytes (MAX_SOURCE_BYTES)`);
    }
    parts.push(part);
  }
  return Buffer.concat(parts);
}

/**
 * Fetches a document from a public web address: every hop (the URL and each redirect) is checked
 * before anything is sent to it, the connection goes to the checked address only, and the whole
 * fetch is bounded in time, size and redirects.
 */
export async function fetchDocument(address: string, network: FetchNetwork, limits: FetchLimits): Promise<FetchedDocument> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let url = checkedUrl(address);
  try {
    for (let redirects = 0; ; redirects++) {
      const response = await network.connect(url, await publicAddress(url, network, limits.allowLoopback ?? false), signal);
      if (response.status >= 300 && response.status < 400 && response.location !== undefined) {
        response.cancel();
        if (redirects >= limits.maxRedirects) throw new FetchError(`${address} redirects more than ${limits.maxRedirects} times`);
        url = checkedUrl(new URL(response.location, url).href);
        continue;
      }
      if (response.status !== 200) {
        response.cancel();
        throw new FetchError(`${url.href} answered HTTP ${response.status}`);
      }
      const contentType = response.contentType ?? '';
      if (extensionFor(contentType) === undefined) {
        response.cancel();
        throw new FetchError(`${url.href} is ${contentType || 'of no stated type'}; Docent reads web pages, text, Markdown, PDF and Word files`);
      }
      return { url: url.href, contentType, bytes: await readBody(response, limits.maxBytes, url) };
    }
  } catch (error) {
    if (signal.aborted) throw new FetchError(`${address} did not answer within ${limits.timeoutMs / 1000} s`);
    if (error instanceof FetchError) throw error;
    throw new FetchError(`${url.href} could not be fetched (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

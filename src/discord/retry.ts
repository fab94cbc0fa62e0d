import { DefaultRestOptions, type RESTOptions } from 'discord.js';

type MakeRequest = RESTOptions['makeRequest'];

export interface BackoffOptions {
  /** First wait after a 5xx, in ms; each further one doubles it. */
  readonly baseMs: number;
  readonly maxMs: number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** "Full jitter": a random wait up to base · 2^attempt, capped, so many clients do not retry in step. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** attempt);
  return Math.round((options.random ?? Math.random)() * ceiling);
}

/**
 * discord.js retries a 5xx at once (REST `retries` times). This waits before handing a 5xx back,
 * longer each time the same request fails in a row, which turns those retries into exponential
 * backoff with jitter; a success or any other status is returned at once.
 */
export function withBackoff(makeRequest: MakeRequest, options: BackoffOptions): MakeRequest {
  const failures = new Map<string, number>();
  return async (url, init) => {
    const key = `${init.method ?? 'GET'} ${url}`;
    const response = await makeRequest(url, init);
    if (response.status < 500) {
      failures.delete(key);
      return response;
    }
    const attempt = failures.get(key) ?? 0;
    failures.set(key, attempt + 1);
    await (options.sleep ?? sleep)(backoffDelay(attempt, options));
    return response;
  };
}

/** The REST settings the bot runs with: four retries of a 5xx, waiting up to 0.5, 1, 2 and 4 s. */
export function restOptions(apiUrl: string | undefined): Partial<RESTOptions> {
  return {
    ...(apiUrl ? { api: apiUrl } : {}),
    retries: 4,
    makeRequest: withBackoff(DefaultRestOptions.makeRequest as MakeRequest, { baseMs: 500, maxMs: 8_000 }),
  };
}

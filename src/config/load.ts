import type { z } from 'zod';

/** A configuration problem, phrased for the person who has to fix it. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Environment variables that are set but blank count as unset, as in most .env tooling. */
function withoutBlanks(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== ''));
}

function describeIssue(issue: z.ZodIssue, source: Record<string, unknown>): string {
  const setting = issue.path.join('.') || 'configuration';
  const given = issue.path.length > 0 ? source[String(issue.path[0])] : undefined;
  // Secrets are never echoed back, even when malformed: error output ends up in logs.
  const secret = /TOKEN|SECRET|PASSWORD|DATABASE_URL/i.test(setting);
  const shown = given === undefined || secret ? '' : ` (got ${JSON.stringify(given)})`;
  const message = issue.message.startsWith(setting) ? issue.message : `${setting}: ${issue.message}`;
  return `${message}${shown}`;
}

/**
 * Validates settings against a schema. Flags given on the command line override the environment.
 * Every failing setting is reported at once, each naming itself and what it allows.
 */
export function parseConfig<S extends z.ZodTypeAny>(schema: S, env: Record<string, string | undefined>, overrides: Record<string, unknown> = {}): z.infer<S> {
  const definedOverrides = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const source = { ...withoutBlanks(env), ...definedOverrides };
  const result = schema.safeParse(source);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => describeIssue(issue, source)));
  }
  return result.data;
}

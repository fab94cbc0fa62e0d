import type { Attachment } from 'discord.js';
import type { NewDocument } from '../docent.ts';

/** An attachment that cannot be taken, and why, in words for the admin. */
export class AttachmentError extends Error {
  override name = 'AttachmentError';
}

/**
 * Downloads an attachment from Discord's CDN, refusing one over MAX_SOURCE_BYTES before and while
 * reading, and giving up after FETCH_TIMEOUT_MS.
 */
export async function downloadAttachment(attachment: Attachment, limits: { MAX_SOURCE_BYTES: number; FETCH_TIMEOUT_MS: number }): Promise<NewDocument> {
  const tooLarge = () =>
    new AttachmentError(`${attachment.name} is over the ${limits.MAX_SOURCE_BYTES.toLocaleString('en')}-byte limit for sources (MAX_SOURCE_BYTES).`);
  if (attachment.size > limits.MAX_SOURCE_BYTES) throw tooLarge();
  let response: Response;
  try {
    response = await fetch(attachment.url, { signal: AbortSignal.timeout(limits.FETCH_TIMEOUT_MS) });
  } catch (error) {
    throw new AttachmentError(`${attachment.name} could not be downloaded from Discord (${(error as Error).message}). Try again.`);
  }
  if (!response.ok || response.body === null)
    throw new AttachmentError(`${attachment.name} could not be downloaded from Discord (HTTP ${response.status}). Try again.`);
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of response.body) {
    size += part.byteLength;
    if (size > limits.MAX_SOURCE_BYTES) {
      await response.body.cancel().catch(() => undefined);
      throw tooLarge();
    }
    parts.push(part);
  }
  return { name: attachment.name, bytes: Buffer.concat(parts) };
}

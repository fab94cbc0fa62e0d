import { SourceError } from '../parseSource.ts';

/** A file whose format Docent reads but whose content could not be turned into text. */
export class ConversionError extends SourceError {
  override name = 'ConversionError';
}

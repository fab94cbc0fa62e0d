// The indexing thread's entry: teaches this thread TypeScript (tsx), then runs embedWorker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./embedWorker.ts');

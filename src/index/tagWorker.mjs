// The entity-tagging thread's entry: teaches this thread TypeScript (tsx), then runs tagWorker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./tagWorker.ts');

// The graph-serving thread's entry: teaches this thread TypeScript (tsx), then runs annWorker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./annWorker.ts');

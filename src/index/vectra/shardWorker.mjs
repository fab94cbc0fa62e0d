// The shard-writing thread's entry: teaches this thread TypeScript (tsx), then runs shardWorker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./shardWorker.ts');

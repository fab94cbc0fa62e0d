// The graph-writing process's entry: teaches this process TypeScript (tsx), then runs annWriter.ts.
import { register } from 'tsx/esm/api';

register();
await import('./annWriter.ts');

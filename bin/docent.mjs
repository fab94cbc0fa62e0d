#!/usr/bin/env node
// Runs the TypeScript CLI directly, so an installed `docent` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');

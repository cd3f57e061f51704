// Development only: lets a worker thread run a TypeScript entry (see spawn.ts).
import { register } from 'tsx/esm/api';

register();
await import(process.argv[process.argv.length - 1]);

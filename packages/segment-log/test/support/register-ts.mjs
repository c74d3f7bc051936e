// `node --import ./register-ts.mjs child.ts`: lets a plain node child run the TypeScript sources (see ts-hooks.mjs).
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);

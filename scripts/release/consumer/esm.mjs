// argv: backend, store directory. Loads the backend with `import`.
import smoke from './smoke.cjs';

const [backend, dir] = process.argv.slice(2);
await smoke(backend, await import(`@keel/${backend}`), dir);
console.log(`esm: @keel/${backend} ok`);

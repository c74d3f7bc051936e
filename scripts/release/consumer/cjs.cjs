// argv: backend, store directory. Loads the ESM-only backend with require() (Node 20.19+).
'use strict';
const smoke = require('./smoke.cjs');

const [backend, dir] = process.argv.slice(2);
smoke(backend, require(`@keel/${backend}`), dir).then(
  () => console.log(`require: @keel/${backend} ok`),
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);

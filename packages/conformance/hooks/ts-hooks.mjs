// Module hooks that let a plain `node` child process run the workspace's TypeScript
// sources the way vitest does: resolve with the `source` export condition, map the
// `.js` specifiers of TypeScript files to their `.ts` files, and strip types on load.
// The SIGKILL test runs its writer child (and the backend's adapter) through them.
import { readFile } from 'node:fs/promises';
import ts from 'typescript';

export async function resolve(specifier, context, nextResolve) {
  const withSource = { ...context, conditions: ['source', ...context.conditions] };
  try {
    return await nextResolve(specifier, withSource);
  } catch (error) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      return nextResolve(`${specifier.slice(0, -3)}.ts`, withSource);
    }
    throw error;
  }
}

export async function load(url, context, nextLoad) {
  if (!url.endsWith('.ts')) return nextLoad(url, context);
  const source = await readFile(new URL(url), 'utf8');
  const output = ts.transpileModule(source, {
    fileName: url,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  return { format: 'module', source: output.outputText, shortCircuit: true };
}

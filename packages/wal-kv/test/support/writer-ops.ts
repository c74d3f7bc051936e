/**
 * The deterministic operations of one writer of the kill test: iteration `c` of writer
 * `w` puts `w:<c % 64>` and, every fifth iteration, deletes another of its keys, in one
 * batch. Because each writer's history is fixed, the state any prefix of it leaves can be
 * recomputed by the test.
 */
export const WRITER_KEYS = 64;
const VALUE_BYTES = 200;

export type WriterOperation = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

export function writerOperations(writer: number, iteration: number): WriterOperation[] {
  const operations: WriterOperation[] = [{ type: 'put', key: `${writer}:${iteration % WRITER_KEYS}`, value: `${iteration}`.padEnd(VALUE_BYTES, '.') }];
  if (iteration % 5 === 0) operations.push({ type: 'del', key: `${writer}:${(iteration + 32) % WRITER_KEYS}` });
  return operations;
}

/** The writer's keys after its iterations [0, through]. */
export function writerStateAfter(writer: number, through: number, state = new Map<string, string>(), from = 0): Map<string, string> {
  for (let iteration = from; iteration <= through; iteration++) {
    for (const operation of writerOperations(writer, iteration)) {
      if (operation.type === 'put') state.set(operation.key, operation.value);
      else state.delete(operation.key);
    }
  }
  return state;
}

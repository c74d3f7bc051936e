/** A broken invariant. fast-check prints it with the seed and path that replay it. */
export class ConformanceViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceViolation';
  }
}

export function violation(message: string): never {
  throw new ConformanceViolation(message);
}

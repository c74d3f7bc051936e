/** Command-line options: `[scenario or prefix …] [--quick] [--no-syncs] [--output file] [--markdown file] [--render json] [--list]`. */
export interface CliOptions {
  selectors: string[];
  quick: boolean;
  countSyncs: boolean;
  list: boolean;
  output: string;
  /** Also write the tables as Markdown (one per backend) to this file. */
  markdown?: string;
  /** Print (or with --markdown, write) the tables of an earlier run's JSON instead of running. */
  render?: string;
  /** Internal: run one system of one scenario for the strace child. */
  probe?: { scenario: string; system: string };
  /** Internal: measure the memory one key-value system holds, in a child process. */
  memoryProbe?: { system: string; paths: string; keys: number };
}

export const OUTPUT_DEFAULT = 'bench-results.json';

export function parseArguments(argv: readonly string[]): CliOptions {
  const options: CliOptions = { selectors: [], quick: false, countSyncs: true, list: false, output: OUTPUT_DEFAULT };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] as string;
    switch (argument) {
      case '--':
        break;
      case '--quick':
        options.quick = true;
        break;
      case '--no-syncs':
        options.countSyncs = false;
        break;
      case '--list':
        options.list = true;
        break;
      case '--output': {
        const value = argv[++index];
        if (value === undefined) throw new Error('--output needs a file name');
        options.output = value;
        break;
      }
      case '--render': {
        const value = argv[++index];
        if (value === undefined) throw new Error('--render needs the JSON file of an earlier run');
        options.render = value;
        break;
      }
      case '--markdown': {
        const value = argv[++index];
        if (value === undefined) throw new Error('--markdown needs a file name');
        options.markdown = value;
        break;
      }
      case '--probe-syncs': {
        const scenario = argv[++index];
        const system = argv[++index];
        if (scenario === undefined || system === undefined) throw new Error('--probe-syncs needs a scenario and a system');
        options.probe = { scenario, system };
        break;
      }
      case '--probe-memory': {
        const [system, paths, keys] = argv.slice(index + 1, index + 4);
        if (system === undefined || paths === undefined || keys === undefined) throw new Error('--probe-memory needs a system, the paths and a key count');
        options.memoryProbe = { system, paths, keys: Number(keys) };
        index += 3;
        break;
      }
      default:
        if (argument.startsWith('--')) throw new Error(`unknown option ${argument}; use --quick, --no-syncs, --output <file>, --markdown <file>, --render <json> or --list`);
        options.selectors.push(argument);
    }
  }
  // Tracing costs a child process per system: a quick run never does it.
  if (options.quick) options.countSyncs = false;
  return options;
}

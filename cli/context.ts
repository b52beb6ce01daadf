import { configPath, readConfig, writeConfig } from './config.js';
import type { Command } from './main.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, outputFormat, print, table } from './output.js';
import { parseCommandLine, UsageError } from './usage.js';

const HELP = `usage: berth context <subcommand>

  list (default)     the saved contexts; * marks the current one
${OUTPUT_HELP}
  current            the current context's name
  use <name>         make <name> the current context
  delete <name>      forget <name> (and its token)

berth login adds contexts. The file: $BERTH_CONFIG, else $XDG_CONFIG_HOME/berth/config.yaml,
else ~/.config/berth/config.yaml. $BERTH_CONTEXT overrides the current context for one shell.`;

const OPTIONS = { ...OUTPUT_OPTIONS, help: { type: 'boolean', short: 'h' } } as const;

export const command: Command = {
  options: OPTIONS,
  operands: { use: 'context', delete: 'context' },
  subcommands: ['list', 'current', 'use', 'delete'],
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, OPTIONS);
    if (values.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    const [sub = 'list', name, ...extra] = positionals;
    if (extra.length) throw new UsageError(`too many arguments: '${extra.join(' ')}'`);
    const config = readConfig();
    const known = (n: string | undefined): string => {
      if (!n) throw new UsageError(`${sub} takes <name>`);
      if (!config.contexts[n]) throw new UsageError(`no context '${n}' in ${configPath()}`);
      return n;
    };
    switch (sub) {
      case 'list': {
        // Names and URLs only: tokens never reach the screen, and -o json is no way around that.
        const rows = Object.entries(config.contexts)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([n, c]) => ({ name: n, url: c.url, current: n === config['current-context'] }));
        print(outputFormat(values.output), rows, () =>
          table(rows, [
            { header: 'current', cell: (r) => (r.current ? '*' : ' ') },
            { header: 'name', cell: (r) => r.name },
            { header: 'url', cell: (r) => r.url },
          ]),
        );
        return 0;
      }
      case 'current':
        if (!config['current-context']) throw new UsageError('no current context; run berth login');
        process.stdout.write(config['current-context'] + '\n');
        return 0;
      case 'use':
        config['current-context'] = known(name);
        writeConfig(config);
        process.stdout.write(`now using context '${name}'\n`);
        return 0;
      case 'delete':
        delete config.contexts[known(name)];
        if (config['current-context'] === name) delete config['current-context'];
        writeConfig(config);
        process.stdout.write(`deleted context '${name}'\n`);
        return 0;
      default:
        throw new UsageError(`unknown subcommand '${sub}'; see berth context --help`);
    }
  },
};

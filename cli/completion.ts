import type { Command } from './main.js';
import { UsageError } from './usage.js';

const HELP = `usage: berth completion <bash|zsh|fish>

Prints a completion script for commands, subcommands and -o values. To load it:
  bash   echo 'source <(berth completion bash)' >> ~/.bashrc
  zsh    echo 'source <(berth completion zsh)' >> ~/.zshrc     (after compinit)
  fish   berth completion fish > ~/.config/fish/completions/berth.fish`;

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

export const command: Command = {
  summary: 'print a shell completion script (bash, zsh or fish)',
  subcommands: SHELLS,
  async run(argv) {
    const [shell, ...extra] = argv;
    if (!shell || shell === '--help' || shell === '-h') {
      process.stdout.write(HELP + '\n');
      return shell ? 0 : 2;
    }
    if (!SHELLS.includes(shell as Shell)) throw new UsageError(`no completion for '${shell}'; bash, zsh or fish`);
    if (extra.length) throw new UsageError(`completion takes one shell, not '${extra.join(' ')}'`);
    const { allCommands } = await import('./main.js');
    const table = (await allCommands()).map(([name, c]) => ({ name, summary: c.summary, subcommands: c.subcommands ?? [] }));
    process.stdout.write(SCRIPTS[shell as Shell](table));
    return 0;
  },
};

interface Entry {
  name: string;
  summary: string;
  subcommands: readonly string[];
}

/** Text inside single quotes, for all three shells. */
const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const OUTPUTS = 'table json yaml';

const SCRIPTS: Record<Shell, (entries: Entry[]) => string> = {
  bash: (entries) => `# berth completion for bash: source <(berth completion bash)
_berth() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  if [ "$prev" = -o ] || [ "$prev" = --output ]; then
    COMPREPLY=($(compgen -W '${OUTPUTS}' -- "$cur")); return
  fi
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${sq(entries.map((e) => e.name).join(' '))} -- "$cur")); return
  fi
  if [ "$COMP_CWORD" -eq 2 ]; then
    case "\${COMP_WORDS[1]}" in
${entries
  .filter((e) => e.subcommands.length)
  .map((e) => `      ${e.name}) COMPREPLY=($(compgen -W ${sq(e.subcommands.join(' '))} -- "$cur")) ;;`)
  .join('\n')}
    esac
  fi
}
complete -o default -F _berth berth
`,
  zsh: (entries) => `#compdef berth
# berth completion for zsh: source <(berth completion zsh), after compinit
_berth() {
  local -a commands
  commands=(
${entries.map((e) => `    ${sq(`${e.name}:${e.summary}`)}`).join('\n')}
  )
  if [[ \${words[CURRENT-1]} == -o || \${words[CURRENT-1]} == --output ]]; then
    compadd ${OUTPUTS}; return
  fi
  if (( CURRENT == 2 )); then
    _describe 'command' commands; return
  fi
  if (( CURRENT == 3 )); then
    case \${words[2]} in
${entries
  .filter((e) => e.subcommands.length)
  .map((e) => `      ${e.name}) compadd ${e.subcommands.join(' ')} ;;`)
  .join('\n')}
    esac
  fi
  _files
}
compdef _berth berth
`,
  fish: (entries) =>
    [
      '# berth completion for fish: berth completion fish > ~/.config/fish/completions/berth.fish',
      `complete -c berth -s o -l output -x -a ${sq(OUTPUTS)}`,
      ...entries.map((e) => `complete -c berth -n __fish_use_subcommand -a ${e.name} -d ${sq(e.summary)}`),
      ...entries
        .filter((e) => e.subcommands.length)
        .map(
          (e) =>
            `complete -c berth -n ${sq(`__fish_seen_subcommand_from ${e.name}; and not __fish_seen_subcommand_from ${e.subcommands.join(' ')}`)} -a ${sq(e.subcommands.join(' '))}`,
        ),
      '',
    ].join('\n'),
};

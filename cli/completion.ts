import type { Command } from './main.js';
import { COMPLETE_COMMAND } from './main.js';
import { UsageError } from './usage.js';

const HELP = `usage: berth completion <bash|zsh|fish>

Prints a completion script: commands, subcommands, flags, -o and --context values, and device and
deployment ids from the current context's control plane. To load it:
  bash   echo 'source <(berth completion bash)' >> ~/.bashrc
  zsh    echo 'source <(berth completion zsh)' >> ~/.zshrc     (after compinit)
  fish   berth completion fish > ~/.config/fish/completions/berth.fish`;

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

export const command: Command = {
  subcommands: SHELLS,
  async run(argv) {
    const [shell, ...extra] = argv;
    if (!shell || shell === '--help' || shell === '-h') {
      process.stdout.write(HELP + '\n');
      return shell ? 0 : 2;
    }
    if (!SHELLS.includes(shell as Shell)) throw new UsageError(`no completion for '${shell}'; bash, zsh or fish`);
    if (extra.length) throw new UsageError(`completion takes one shell, not '${extra.join(' ')}'`);
    process.stdout.write(SCRIPTS[shell as Shell]);
    return 0;
  },
};

/*
 * Thin wrappers: each hands `berth __complete` the words before the cursor and the word being
 * typed (the first word is how berth was called, so ./bin/berth.js completes too), offers what
 * it prints, and falls back to file names when it prints nothing. Its stderr goes nowhere: a
 * completion never writes into the command line being typed.
 */
const SCRIPTS: Record<Shell, string> = {
  bash: `# berth completion for bash: source <(berth completion bash)
_berth() {
  local out value
  COMPREPLY=()
  out=$("\${COMP_WORDS[0]}" ${COMPLETE_COMMAND} "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "\${COMP_WORDS[COMP_CWORD]}" 2>/dev/null) || return 0
  while IFS=$'\\t' read -r value _; do
    [ -n "$value" ] && COMPREPLY+=("$value")
  done <<< "$out"
}
complete -o default -F _berth berth
`,
  zsh: `#compdef berth
# berth completion for zsh: source <(berth completion zsh), after compinit
_berth() {
  local -a lines specs
  local line
  lines=("\${(@f)$("\${words[1]}" ${COMPLETE_COMMAND} "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null)}")
  for line in "\${lines[@]}"; do
    [[ -z $line ]] && continue
    # _describe splits value from description at the first unescaped colon.
    if [[ $line == *$'\\t'* ]]; then
      specs+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
    else
      specs+=("\${line//:/\\\\:}")
    fi
  done
  if (( \${#specs} )); then
    _describe -t berth berth specs
  else
    _files
  fi
}
compdef _berth berth
`,
  fish: `# berth completion for fish: berth completion fish > ~/.config/fish/completions/berth.fish
function __berth_complete
    set -l words (commandline -opc)
    set -l out ($words[1] ${COMPLETE_COMMAND} $words[2..-1] (commandline -ct) 2>/dev/null)
    if test (count $out) -gt 0
        printf '%s\\n' $out
    else
        __fish_complete_path (commandline -ct)
    end
end
complete -c berth -f -a '(__berth_complete)'
`,
};

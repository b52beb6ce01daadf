import type { Command } from './main.js';
import type { Options } from './usage.js';

/**
 * `berth __complete <words…> <current>`: the one place completion is decided, as cobra's
 * `__complete` is. The shell scripts of berth completion hand it the words before the cursor and
 * the word being typed, and offer what it prints: one candidate a line, `value<TAB>description`.
 * It never fails: a command line it cannot follow, a config it cannot read or a control plane
 * it cannot reach completes nothing (and the shell falls back to file names).
 */
export interface Candidate {
  value: string;
  description?: string;
}

/** What the words before the cursor say: the command, its subcommand, flags given and operands. */
export interface Parsed {
  command: Command;
  sub: string | undefined;
  /** The string flags given, by long name (--context, --url… choose the control plane to ask). */
  values: Record<string, string>;
  operands: string[];
  /** A string flag at the end still waiting for its value: the word typed is that value. */
  pendingFlag: string | undefined;
}

const OUTPUT_FORMATS: readonly Candidate[] = ['table', 'json', 'yaml'].map((value) => ({ value }));

export async function complete(words: readonly string[]): Promise<Candidate[]> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const { commandSummaries, loadCommand } = await import('./main.js');
  const name = before[0];
  // The first word loads no command (summaries are in main's table); later ones load one.
  if (name === undefined)
    return matching(
      commandSummaries().map((c) => ({ value: c.name, description: c.summary })),
      current,
    );
  const command = await loadCommand(name);
  if (!command) return [];
  const parsed = parseWords(command, before.slice(1));
  const inline = /^(--[^=]+)=(.*)$/.exec(current);
  if (inline) {
    const flag = optionNamed(optionsOf(command, parsed.sub), inline[1]!);
    const values = flag ? await flagValues(flag, parsed) : [];
    return matching(values, inline[2]!).map((c) => ({ ...c, value: `${inline[1]}=${c.value}` }));
  }
  if (parsed.pendingFlag) return matching(await flagValues(parsed.pendingFlag, parsed), current);
  if (current.startsWith('-')) return matching(flags(optionsOf(command, parsed.sub)), current);
  if (command.subcommands && parsed.sub === undefined)
    return matching(
      command.subcommands.map((value) => ({ value })),
      current,
    );
  const operand = parsed.operands.length === 0 ? command.operands?.[parsed.sub ?? ''] : undefined;
  if (!operand) return [];
  const { operandValues } = await import('./complete-operands.js');
  return matching(await operandValues(operand, parsed.values), current);
}

/** The words after the command name, read with the command's own option table. */
export function parseWords(command: Command, words: readonly string[]): Parsed {
  const parsed: Parsed = { command, sub: undefined, values: {}, operands: [], pendingFlag: undefined };
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith('-') && word !== '-') {
      const [flagWord, inlineValue] = word.split(/=(.*)/s) as [string, string | undefined];
      const name = optionNamed(optionsOf(command, parsed.sub), flagWord);
      if (!name || optionsOf(command, parsed.sub)[name]!.type !== 'string' || inlineValue !== undefined) {
        if (name && inlineValue !== undefined) parsed.values[name] = inlineValue;
        continue;
      }
      if (i + 1 === words.length) parsed.pendingFlag = name;
      else parsed.values[name] = words[++i]!;
    } else if (command.subcommands && parsed.sub === undefined) parsed.sub = word;
    else parsed.operands.push(word);
  }
  return parsed;
}

function optionsOf(command: Command, sub: string | undefined): Options {
  return (sub !== undefined && command.subcommandOptions?.[sub]) || command.options || {};
}

/** The long name of `--name` or `-n` in `options`. */
function optionNamed(options: Options, word: string): string | undefined {
  if (word.startsWith('--')) return Object.hasOwn(options, word.slice(2)) ? word.slice(2) : undefined;
  return Object.entries(options).find(([, o]) => o.short === word.slice(1))?.[0];
}

function flags(options: Options): Candidate[] {
  return Object.entries(options).flatMap(([name, o]) => [{ value: `--${name}` }, ...(o.short ? [{ value: `-${o.short}` }] : [])]);
}

async function flagValues(flag: string, parsed: Parsed): Promise<Candidate[]> {
  if (flag === 'output') return [...OUTPUT_FORMATS];
  if (flag === 'context') {
    const { operandValues } = await import('./complete-operands.js');
    return operandValues('context', parsed.values);
  }
  return [];
}

const matching = (candidates: readonly Candidate[], prefix: string): Candidate[] => candidates.filter((c) => c.value.startsWith(prefix));

/** The hidden command's output: a candidate a line, its description after a tab (tabs and newlines in either flattened). */
export function candidateLines(candidates: readonly Candidate[]): string {
  const flat = (s: string): string => s.replace(/[\t\r\n]+/g, ' ');
  return candidates.map((c) => (c.description ? `${flat(c.value)}\t${flat(c.description)}` : flat(c.value)) + '\n').join('');
}

/** The hidden command itself: prints the candidates, and exits 0 whatever happened. */
export async function runComplete(words: readonly string[]): Promise<number> {
  try {
    process.stdout.write(candidateLines(await complete(words)));
  } catch {
    // A bug here must not spill a stack trace into someone's command line.
  }
  return 0;
}

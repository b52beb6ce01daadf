import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import type { AuditEvent, AuditPage } from '../wire/audit.js';
import { apiClient, subcommandArgs, TARGET_HELP, type ApiCall, TARGET_OPTIONS } from './api-subcommand.js';
import type { Command } from './main.js';
import { cellText, OUTPUT_HELP, OUTPUT_OPTIONS, outputFormat, print, table, type OutputFormat } from './output.js';
import { positiveInteger, UsageError } from './usage.js';

const HELP = `usage: berth events [options]

The control plane's audit log (docs/audit.md): onboarding, certificates, tokens, the catalog,
deployments, rollouts and advisories, oldest first.

  --event <name|prefix.>     one event, or a prefix ending in '.' (onboarding.)
  --device <id>              only events about this device
  --limit <n>                the last n events (default 50, at most 1000)
  --follow, -f               then print new events as they happen, until Ctrl-C (or --timeout):
                             one line each, or one JSON or YAML document each with -o
    --timeout <s>            stop following after this long
    --interval <s>           how often to ask for new events (default 2)
${OUTPUT_HELP}

${TARGET_HELP}`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...OUTPUT_OPTIONS,
  event: { type: 'string' },
  device: { type: 'string' },
  limit: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  timeout: { type: 'string' },
  interval: { type: 'string' },
} as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const args = subcommandArgs(['events', ...argv], HELP, OPTIONS);
    if (typeof args === 'number') return args;
    const { values, positionals } = args;
    if (positionals.length) throw new UsageError(`events takes no arguments, not '${positionals[0]}'`);
    const format = outputFormat(values.output);
    const limit = positiveInteger(values.limit, 'limit', 1000) ?? 50;
    const timeout = positiveInteger(values.timeout, 'timeout', 86_400 * 365);
    const interval = Number(values.interval ?? 2);
    if (!(interval >= 0.1 && interval <= 3600)) throw new UsageError(`--interval must be seconds from 0.1 to 3600, not '${values.interval}'`);
    if (!values.follow && (values.timeout || values.interval)) throw new UsageError('--timeout and --interval go with --follow');
    const filter = { ...(values.event ? { event: values.event } : {}), ...(values.device ? { deviceId: values.device } : {}) };
    const api = await apiClient(values);
    // The newest `limit`, shown oldest first as a log reads.
    const page: AuditPage = await api('GET', `/api/v1/admin/audit?${new URLSearchParams({ ...filter, limit: String(limit) })}`);
    const recent = [...page.events].reverse();
    if (!values.follow) {
      print(format, page, () => eventTable(recent));
      return 0;
    }
    recent.forEach((e) => printEvent(format, e));
    await follow(api, filter, recent.at(-1)?.id ?? 0, format, interval * 1000, timeout);
    return 0;
  },
};

function eventTable(events: readonly AuditEvent[]): string {
  return table(events, [
    { header: 'id', cell: (e) => e.id },
    { header: 'at', cell: (e) => e.at },
    { header: 'event', cell: (e) => e.event },
    { header: 'actor', cell: (e) => e.actor },
    { header: 'device', cell: (e) => e.deviceId },
    { header: 'fields', cell: (e) => fieldText(e.fields) },
  ]);
}

/** `key=value` pairs, the way a log line shows them. */
const fieldText = (f: Record<string, unknown>): string =>
  Object.entries(f)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');

/** One event as it arrives: a log line, an NDJSON line, or a YAML document. */
function printEvent(format: OutputFormat, e: AuditEvent): void {
  if (format === 'json') process.stdout.write(JSON.stringify(e) + '\n');
  else if (format === 'yaml') process.stdout.write('---\n' + stringify(e));
  else process.stdout.write(`${e.at}  ${e.event}  ${cellText(e.actor)}  ${cellText(e.deviceId)}  ${fieldText(e.fields)}\n`);
}

/**
 * Tails the log: `after` reads oldest first from a cursor, and `next` is where to go on from
 * (also when nothing is new), so no event is printed twice or missed between polls.
 */
async function follow(api: ApiCall, filter: Record<string, string>, from: number, format: OutputFormat, intervalMs: number, timeoutS: number | undefined) {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const timer = timeoutS === undefined ? undefined : setTimeout(onSignal, timeoutS * 1000);
  try {
    let after = from;
    while (!stop.signal.aborted) {
      const page: AuditPage = await api('GET', `/api/v1/admin/audit?${new URLSearchParams({ ...filter, after: String(after), limit: '1000' })}`);
      page.events.forEach((e) => printEvent(format, e));
      after = page.next ?? after;
      // A full page means more is waiting: read on at once.
      if (page.events.length < 1000) await sleep(intervalMs, undefined, { signal: stop.signal }).catch(() => {});
    }
  } finally {
    // Ctrl-C ends the follow, not the process abruptly; after it, signals are the process's again.
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    clearTimeout(timer);
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../common/errors.js';
import type { DeploymentStatusShown, RolloutAnswer } from '../wire/deployment.js';
import { apiClient, seg, subcommandArgs, TARGET_HELP, type ApiCall, TARGET_OPTIONS } from './api-subcommand.js';
import { rolloutText } from './deployments.js';
import type { Command } from './main.js';
import { fields, OUTPUT_HELP, OUTPUT_OPTIONS, outputFormat, print, table, type OutputFormat } from './output.js';
import { progressLines, type ProgressLine } from './progress-lines.js';
import { expectArgs, positiveInteger, UsageError } from './usage.js';

const HELP = `usage: berth rollout <subcommand> <deployment-id> [options]

  start <id> --version <v>   move the deployment to version <v> in waves (docs/scheduling.md)
    --batch-size <n>         devices per wave (default: the deployment's)
    --wave-timeout <s>       a wave not installed this many seconds after it started pauses
                             the rollout (default 900)
    --watch                  then watch it, as berth rollout watch
  status <id>                where the rollout is: wave, devices installed, why it paused
  pause <id>                 hold it where it is: no further wave
  resume <id>                go on with a paused rollout
  watch <id>                 follow it until it is done or paused: a progress bar a wave on a
                             terminal, a line per change otherwise; exit 0 when done, 1 when
                             paused, rolled back or still rolling at --timeout
    --timeout <s>            give up watching after this long (default 600)
    --interval <s>           how often to ask (default 2)
${OUTPUT_HELP}

${TARGET_HELP}`;

const SUBCOMMANDS: readonly string[] = ['start', 'status', 'pause', 'resume', 'watch'];

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...OUTPUT_OPTIONS,
  version: { type: 'string' },
  'batch-size': { type: 'string' },
  'wave-timeout': { type: 'string' },
  watch: { type: 'boolean' },
  timeout: { type: 'string' },
  interval: { type: 'string' },
} as const;

export const command: Command = {
  options: OPTIONS,
  operands: Object.fromEntries(SUBCOMMANDS.map((s) => [s, 'deployment' as const])),
  subcommands: SUBCOMMANDS,
  async run(argv) {
    const args = subcommandArgs(argv, HELP, OPTIONS);
    if (typeof args === 'number') return args;
    const { sub, values, positionals } = args;
    const format = outputFormat(values.output);
    if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`unknown subcommand '${sub}'; see berth rollout --help`);
    const [id] = expectArgs(positionals, 1, `berth rollout ${sub} <deployment-id>`) as [string];
    const watchFor = {
      timeoutMs: (positiveInteger(values.timeout, 'timeout', 86_400) ?? 600) * 1000,
      intervalMs: seconds(values.interval, 'interval') ?? 2000,
    };
    const api = await apiClient(values);
    const base = `/api/v1/admin/deployments/${seg(id)}`;
    switch (sub) {
      case 'start': {
        if (!values.version) throw new UsageError('rollout start needs --version');
        const batchSize = positiveInteger(values['batch-size'], 'batch-size');
        const waveTimeoutSeconds = positiveInteger(values['wave-timeout'], 'wave-timeout', 7 * 86_400);
        const answer: RolloutAnswer = await api('POST', `${base}/rollouts`, {
          version: values.version,
          ...(batchSize !== undefined ? { batchSize } : {}),
          ...(waveTimeoutSeconds !== undefined ? { waveTimeoutSeconds } : {}),
        });
        if (values.watch) return watch(api, id, format, watchFor);
        print(format, answer, () => `rollout of ${id} to ${answer.targetVersion} started, ${answer.batchSize} device(s) per wave\n`);
        return 0;
      }
      case 'pause':
      case 'resume': {
        const answer: RolloutAnswer = await api('POST', `${base}/rollout/${sub}`, {});
        print(format, answer, () => `rollout of ${id} to ${answer.targetVersion} ${answer.state}\n`);
        return 0;
      }
      case 'status': {
        const status: DeploymentStatusShown = await api('GET', `${base}/status`);
        print(format, status, () => statusText(status));
        return 0;
      }
      default:
        return watch(api, id, format, watchFor);
    }
  },
};

/** Decimal seconds (0.1 to a day) from a flag, in milliseconds: tests and impatient people poll fast. */
function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const s = Number(value);
  if (!(s >= 0.1 && s <= 86_400)) throw new UsageError(`--${flag} must be seconds from 0.1 to 86400, not '${value}'`);
  return Math.round(s * 1000);
}

/** Where a rollout is, in numbers: its target, the wave it is in (the last one moved), and how many devices run the target installed. */
export function rolloutProgress(s: DeploymentStatusShown): { target: string; installed: number; total: number; wave: number; waves: number } {
  const moving = s.rollout.state === 'rolling' || s.rollout.state === 'paused';
  const target = (moving && s.rollout.targetVersion) || s.version;
  const wave = Math.max(1, s.waves.filter((w) => w.phase !== 'waiting').length);
  return { target, installed: s.installed[target] ?? 0, total: s.devices, wave, waves: Math.max(1, s.waves.length) };
}

/** A bar a wave: `rollout line wave 1/2: 1/1 adopted, 0 failed, done`. */
export function waveLines(id: string, s: DeploymentStatusShown): ProgressLine[] {
  return s.waves.map((w) => ({
    key: String(w.wave),
    done: w.adopted,
    total: w.devices,
    text: `rollout ${id} wave ${w.wave}/${s.waves.length}: ${w.adopted}/${w.devices} adopted, ${w.failed} failed, ${w.phase}`,
  }));
}

function statusText(s: DeploymentStatusShown): string {
  const p = rolloutProgress(s);
  const states = Object.entries(s.counts)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ');
  const moving = s.rollout.state === 'rolling' || s.rollout.state === 'paused';
  const out = fields([
    ['deployment', s.deploymentId],
    ['rollout', rolloutText(s)],
    ...(moving ? ([['wave', `${p.wave}/${p.waves} (${s.rollout.batchSize} per wave)`]] as [string, unknown][]) : []),
    ['installed', `${p.installed}/${p.total} on ${p.target}`],
    ['devices', states],
    ...(s.rollout.reason ? ([['paused', s.rollout.reason.message]] as [string, unknown][]) : []),
  ]);
  if (!s.errors.length) return out;
  return (
    out +
    '\n' +
    table(s.errors, [
      { header: 'device', cell: (e) => e.deviceId },
      { header: 'version', cell: (e) => e.version },
      { header: 'error', cell: (e) => reportedError(e.error) },
    ])
  );
}

/** A device's reported error (passed on as the device sent it, so not typed on the wire): its message, else its code. */
function reportedError(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { message, code } = error as { message?: unknown; code?: unknown };
  return typeof message === 'string' ? message : typeof code === 'string' ? code : undefined;
}

/**
 * Follows a rollout until it stops rolling or `timeoutMs` passes. Done is success (0); paused,
 * rolled back or out of time is a failure (1) saying why, so a script can wait on it.
 */
async function watch(api: ApiCall, id: string, format: OutputFormat, o: { timeoutMs: number; intervalMs: number }): Promise<number> {
  const deadline = Date.now() + o.timeoutMs;
  // -o json|yaml prints the last status only: a stream of documents is no use to a parser.
  const shown = format === 'table' ? progressLines(process.stdout) : undefined;
  for (;;) {
    const s: DeploymentStatusShown = await api('GET', `/api/v1/admin/deployments/${seg(id)}/status`);
    const p = rolloutProgress(s);
    shown?.update(waveLines(id, s));
    const state = s.rollout.state;
    if (state !== 'rolling' || Date.now() >= deadline) {
      const verdict =
        state === 'done' || state === 'none'
          ? `rollout of ${id} to ${p.target} done: ${p.installed}/${p.total} installed`
          : state === 'rolling'
            ? `rollout of ${id} still rolling after ${o.timeoutMs / 1000} s`
            : `rollout of ${id} ${state}${s.rollout.reason ? `: ${s.rollout.reason.message}` : ''}`;
      shown?.finish(verdict);
      if (!shown) print(format, s, () => '');
      if (state === 'done' || state === 'none') return 0;
      throw new BerthError(`rollout.${state}`, verdict);
    }
    await sleep(Math.min(o.intervalMs, Math.max(0, deadline - Date.now())));
  }
}

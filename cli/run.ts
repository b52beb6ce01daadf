import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { BerthError, errorMessage } from '../common/errors.js';
import { parseHostPort } from '../common/host-port.js';
import { createLogger } from '../common/logger.js';
import { parseGrants } from '../host-apis/grants.js';
import { serveLocally, type ServeLocallyOptions } from '../runtime/serve-locally.js';
import type { GrantSet } from '../wire/grants.js';
import { readProject } from './project.js';
import { stopSignal } from './stop-signal.js';
import type { AppIdentity, AppLogRecord } from '../host-apis/app-context.js';
import { grantFlagUsage, grantsFromFlags } from '../host-apis/grant-flags.js';
import { defaultEngineChoice, parseEngineChoice, parseWasmtimeCompiler } from '../runtime/engine/choice.js';
import type { Engine } from '../runtime/engine/engine.js';
import { selectEngine, type EngineSelection } from '../runtime/engine/select.js';
import { runOnce } from '../runtime/run-once.js';
import { readComponentFile } from './inspect.js';
import type { Command } from './main.js';

const HELP = `usage: berth run <component.wasm> [--grant NAME[=VALUE]]... [--invoke FUNC] [--arg VALUE]... [--engine auto|wasmtime|jco]
       [--compiler winch|cranelift] [--serve [HOST:]PORT]
       berth run --serve [HOST:]PORT     (in a project: its dist/<app>.wasm with berth.yaml's grants)

Runs one component locally, in the same sandbox and with the same checks as on a device.
An import the component declares but that no --grant covers is refused before it starts.

  --grant NAME[=VALUE]  one grant (QUOTA: bytes, or 1M, 64K ...), as one of:
${grantFlagUsage()
  .map((usage) => `                          ${usage}`)
  .join('\n')}
  --invoke FUNC         the export to call (default: run, the app's entry point)
  --serve [HOST:]PORT   serve an app granted inbound-http on a local gateway, as a device does,
                        until Ctrl-C (HOST default 127.0.0.1; PORT 0 picks a free one)
  --arg VALUE           an argument for FUNC, as JSON (42, "text", true); repeat for more
  --memory MIB          linear memory limit (default 64)
  --deadline MS         CPU deadline of the call (default 5000)
  --vendor NAME --app NAME   the app's identity (default: local/<file name>)
  --data-dir DIR        where the app's data (keyvalue, files) is kept (default: .berth)
  --engine auto|wasmtime|jco   the WebAssembly engine (default auto: Wasmtime where its pinned
                        library is found, else jco; BERTH_ENGINE sets the default)
  --wasmtime-library PATH   the pinned Wasmtime library to load (else BERTH_WASMTIME_LIBRARY,
                        Berth's cache, or the Python wasmtime package)
  --compiler winch|cranelift   Wasmtime's compiler (default winch: compiles ~5x faster;
                        cranelift: faster code); compiled code is kept per compiler

The engine that runs is said in one line on stderr, with the reason when auto falls back to jco.`;

const OPTIONS = {
  grant: { type: 'string', multiple: true },
  invoke: { type: 'string' },
  arg: { type: 'string', multiple: true },
  memory: { type: 'string' },
  deadline: { type: 'string' },
  vendor: { type: 'string' },
  app: { type: 'string' },
  'data-dir': { type: 'string' },
  engine: { type: 'string' },
  'wasmtime-library': { type: 'string' },
  compiler: { type: 'string' },
  serve: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: OPTIONS,
    });
    if (values.help) return (void process.stdout.write(HELP + '\n'), 0);
    if (positionals.length > 1) throw new BerthError('usage', `expected one component file\n${HELP}`);
    const listen = values.serve === undefined ? undefined : hostPort(values.serve);
    const target = await runTarget(positionals[0], values);
    const choice = values.engine === undefined ? defaultEngineChoice() : parseEngineChoice(values.engine, '--engine');
    const compiler = values.compiler === undefined ? undefined : parseWasmtimeCompiler(values.compiler, '--compiler');
    const bytes = await readComponentFile(target.file);
    const dataDir = resolve(values['data-dir'] ?? '.berth');
    const engine = await chooseEngine({ choice, cacheDir: resolve(dataDir, 'cache'), wasmtimeLibrary: values['wasmtime-library'], wasmtimeCompiler: compiler });
    const { app, vendor, grants } = target;
    if (listen) return serve(bytes, { engine, vendor, app, grants, dataDir, ...listen });
    const result = await runOnce(bytes, {
      engine,
      vendor,
      app,
      grants,
      dataDir,
      fn: values.invoke ?? 'run',
      args: (values.arg ?? []).map(parseArgument),
      limits: {
        ...(values.memory ? { memoryBytes: positiveNumber(values.memory, '--memory') * 2 ** 20 } : {}),
        ...(values.deadline ? { cpuDeadlineMs: positiveNumber(values.deadline, '--deadline') } : {}),
      },
      log: printAppLog,
    });
    if (result.outcome.ok) {
      if (result.outcome.value !== undefined) process.stdout.write(JSON.stringify(result.outcome.value, jsonSafe) + '\n');
      return 0;
    }
    const f = result.outcome.failure;
    process.stderr.write(`berth run: ${f.kind}: ${f.message}\n`);
    return 1;
  },
};

interface RunTarget {
  file: string;
  vendor: string;
  app: string;
  grants: GrantSet;
}

/**
 * What runs: the file named, with the grants of the flags; or, with no file, the project here
 * (berth.yaml): its built component, identity and grants, so `berth build && berth run --serve`
 * tries exactly what a deployment with those grants would run.
 */
async function runTarget(file: string | undefined, values: { grant?: string[]; vendor?: string; app?: string }): Promise<RunTarget> {
  if (file) return { file, vendor: values.vendor ?? 'local', app: values.app ?? defaultAppName(file), grants: grantsFromFlags(values.grant ?? []) };
  const project = await readProject('.').catch((err: unknown) => {
    throw new BerthError('usage', `expected a component file, or a project here: ${errorMessage(err)}\n${HELP}`);
  });
  if (values.grant?.length) throw new BerthError('usage', `a project's grants are in its berth.yaml; --grant is for a component file`);
  return { file: join(project.root, 'dist', `${project.app}.wasm`), vendor: project.vendor, app: project.app, grants: parseGrants(project.grants) };
}

/** `--serve`: HOST:PORT, or a bare PORT on loopback. */
function hostPort(text: string): { host: string; port: number } {
  const listen = /^\d{1,5}$/.test(text) ? parseHostPort(`127.0.0.1:${text}`) : parseHostPort(text);
  if (!listen) throw new BerthError('usage', `--serve takes HOST:PORT or PORT (0: any free port), got "${text}"`);
  return listen;
}

/** Serves the app on a local gateway until SIGINT or SIGTERM; its address on stdout, its logs on stderr. */
async function serve(bytes: Uint8Array, o: Omit<ServeLocallyOptions, 'logger'>): Promise<number> {
  const logger = createLogger({ name: 'berth-run', level: 'info' }, process.stderr);
  const served = await serveLocally(bytes, { ...o, logger });
  process.stdout.write(`serving ${o.vendor}/${o.app} at ${served.url} (Ctrl-C stops)\n`);
  await stopSignal();
  await served.close();
  return 0;
}

/** The engine, said on stderr before the app's own lines (stdout stays the call's result alone). */
async function chooseEngine(selection: Omit<EngineSelection, 'notice'>): Promise<Engine> {
  const notice = (message: string) => process.stderr.write(`berth run: ${message}\n`);
  const engine = await selectEngine({ ...selection, notice });
  process.stderr.write(`berth run: engine ${engine.name}\n`);
  return engine;
}

function printAppLog(identity: AppIdentity, record: AppLogRecord): void {
  const fields = record.fields
    ? ' ' +
      Object.entries(record.fields)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')
    : '';
  const where = record.source === 'log' ? '' : ` ${record.source}`;
  process.stderr.write(`[${identity.vendor}/${identity.app} ${record.level}${where}] ${record.message}${fields}\n`);
}

function parseArgument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function positiveNumber(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new BerthError('usage', `${flag} takes a positive number, got "${text}"`);
  return n;
}

function defaultAppName(file: string): string {
  const base = file
    .split(/[\\/]/)
    .pop()!
    .replace(/\.wasm$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-');
  return /^[a-z0-9]/.test(base) ? base.slice(0, 63) : `app-${base}`.slice(0, 63);
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Array.from(value);
  return value;
}

import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors.js';
import type { Command } from './main.js';
import { stopSignal } from './stop-signal.js';

const HELP = `usage: berth device start --config <file>

  start                 run the device agent: onboard if needed, bring back the last adopted
                        apps from disk, then follow the signed desired state (docs/agent.md)
    --config <file>     agent configuration, JSON or YAML (docs/agent.md lists every field)

Logs are JSON lines (pino) on standard output; app lines carry vendor and app.
SIGINT or SIGTERM stops the apps and the agent.`;

const OPTIONS = { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

export const command: Command = {
  options: OPTIONS,
  subcommands: ['start'],
  async run(argv) {
    const [sub, ...rest] = argv;
    if (!sub || sub === '--help' || sub === '-h' || sub !== 'start') {
      process.stdout.write(HELP + '\n');
      return sub === '--help' || sub === '-h' ? 0 : 2;
    }
    const { values } = parseArgs({ args: rest, options: OPTIONS });
    if (values.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (!values.config) throw new BerthError('cli.usage', 'berth device start needs --config <file>');
    const { loadAgentConfig } = await import('../runtime/agent/config.js');
    const { startAgent } = await import('../runtime/agent/agent.js');
    const { createLogger } = await import('../common/logger.js');
    const config = await loadAgentConfig(values.config);
    const logger = createLogger({ name: 'berth-device', level: config.logLevel });
    const interrupted = new AbortController();
    const stopping = stopSignal().then((name) => (interrupted.abort(), name));
    const agent = await startAgent(config, { logger, signal: interrupted.signal });
    const signal = await stopping;
    logger.info({ signal }, 'stopping');
    await agent.stop();
    return 0;
  },
};

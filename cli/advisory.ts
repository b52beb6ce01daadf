import { BerthError } from '../common/errors.js';
import type { ExposureReportShown } from '../wire/advisory.js';
import { readJsonFile } from './json-file.js';
import { subcommandArgs, TARGET_HELP, TARGET_OPTIONS } from './api-subcommand.js';
import type { Command } from './main.js';
import { DATA_OUTPUT_HELP, dataFormat, OUTPUT_OPTIONS, print } from './output.js';

const HELP = `usage: berth advisory <subcommand> [options]

  create                     file a security advisory (an admin for the fleet, a vendor for its apps)
    --file <advisory.json>   the whole advisory as JSON (docs/vulnerability-response.md), or:
    --id <id>                CVE-2026-1234, GHSA-xxxx-xxxx-xxxx or <vendor>:<id>
    --summary <text>
    --severity <s>           none, low, medium, high or critical
    --cvss <vector>          a CVSS v3.x or v4.0 vector (optional)
    --action <a>             warn, block, stop or rollback
    --app <app> --versions <range>   versions of one app by semver range
    --digest <sha256:…>      an artifact by digest (repeatable)
    --reference <url>        an https link (repeatable)
  list                       the advisories this token may see
  show <id>                  one advisory, with the admitted versions it affects
  exposure <id>              every device that ran an affected version, from when to when, and now
    --group-by <label>       sum by this device label (default site)
    --csv                    one line per stretch of time, for a spreadsheet
${DATA_OUTPUT_HELP}

${TARGET_HELP}`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...OUTPUT_OPTIONS,
  file: { type: 'string' },
  id: { type: 'string' },
  summary: { type: 'string' },
  severity: { type: 'string' },
  cvss: { type: 'string' },
  action: { type: 'string' },
  app: { type: 'string' },
  versions: { type: 'string' },
  digest: { type: 'string', multiple: true },
  reference: { type: 'string', multiple: true },
  'group-by': { type: 'string' },
  csv: { type: 'boolean' },
} as const;

export const command: Command = {
  options: OPTIONS,
  subcommands: ['create', 'list', 'show', 'exposure'],
  async run(argv) {
    const args = subcommandArgs(argv, HELP, OPTIONS);
    if (typeof args === 'number') return args;
    const { sub, values, positionals } = args;
    const output = dataFormat(values.output);
    const { adminCall } = await import('../orchestrator/admin/client.js');
    const { resolveTarget } = await import('./target.js');
    const target = await resolveTarget(values);
    let out: unknown;
    switch (sub) {
      case 'create':
        out = await adminCall(target, 'POST', '/api/v1/advisories', advisoryOf(values));
        break;
      case 'list':
        out = await adminCall(target, 'GET', '/api/v1/advisories');
        break;
      case 'show':
        if (positionals.length !== 1) throw new BerthError('cli.usage', 'show takes <id>');
        out = await adminCall(target, 'GET', `/api/v1/advisories/${encodeURIComponent(positionals[0]!)}`);
        break;
      case 'exposure': {
        if (positionals.length !== 1) throw new BerthError('cli.usage', 'exposure takes <id>');
        const query = values['group-by'] ? `?groupBy=${encodeURIComponent(values['group-by'])}` : '';
        const report: ExposureReportShown = await adminCall(target, 'GET', `/api/v1/advisories/${encodeURIComponent(positionals[0]!)}/exposure${query}`);
        if (!values.csv) {
          out = report;
          break;
        }
        // The same CSV the control plane serves, written here from its JSON answer.
        const { exposureCsv } = await import('../orchestrator/advisories/exposure.js');
        process.stdout.write(exposureCsv(report));
        return 0;
      }
      default:
        throw new BerthError('cli.usage', `unknown subcommand '${sub}'; see berth advisory --help`);
    }
    print(output, out, () => ''); // json or yaml: no table to draw
    return 0;
  },
};

type CreateOptions = {
  file?: string;
  id?: string;
  summary?: string;
  severity?: string;
  cvss?: string;
  action?: string;
  app?: string;
  versions?: string;
  digest?: string[];
  reference?: string[];
};

/** The request body from --file, or from the flags; the control plane checks every field. */
function advisoryOf(v: CreateOptions): unknown {
  if (v.file) return readJsonFile(v.file);
  for (const flag of ['id', 'summary', 'severity', 'action'] as const) {
    if (!v[flag]) throw new BerthError('cli.usage', `create needs --${flag} (or --file)`);
  }
  if (Boolean(v.app) !== Boolean(v.versions)) throw new BerthError('cli.usage', '--app and --versions go together');
  const affected: unknown[] = [...(v.app ? [{ app: v.app, versions: v.versions }] : []), ...(v.digest?.length ? [{ digests: v.digest }] : [])];
  if (affected.length === 0) throw new BerthError('cli.usage', 'create needs --app with --versions, or --digest');
  return {
    id: v.id,
    summary: v.summary,
    severity: v.severity,
    action: v.action,
    affected,
    ...(v.cvss ? { cvss: v.cvss } : {}),
    ...(v.reference?.length ? { references: v.reference } : {}),
  };
}

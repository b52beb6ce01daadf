import type { AppShown, AppsListed, VendorRegistered, VendorShown, VendorsListed, VersionShown, VersionsListed } from '../wire/catalog.js';
import { apiClient, seg, orDefaultSubcommand, subcommandArgs, TARGET_HELP, TARGET_OPTIONS } from './api-subcommand.js';
import { readYamlOrJsonFile } from './json-file.js';
import type { Command } from './main.js';
import { fields, OUTPUT_HELP, OUTPUT_OPTIONS, outputFormat, print, table } from './output.js';
import { expectArgs, UsageError } from './usage.js';

const HELP = `usage: berth catalog [subcommand] [options]

  apps (default)             the apps this token may see (a vendor: its own)
  versions <app>             an app's admitted versions: digest, size, signer
  vendors                    the vendors this token may see (a vendor: itself), with their keys and repositories
  vendor <name>              one vendor and its trust policy
  add-vendor <name> --trust-policy <file>   register a vendor (admin; YAML or JSON policy)
  add-app <id> [--vendor <name>] [--description <text>]   a new app (a vendor token: its own)
  admit <app> <version> <oci://registry/repo:VERSION>     admit a version: the control plane
                             pulls and verifies it against the vendor's trust policy
${OUTPUT_HELP}

${TARGET_HELP}`;

/** A trust policy's list field as shown: anything but an array is none. */
const listOf = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...OUTPUT_OPTIONS,
  'trust-policy': { type: 'string' },
  vendor: { type: 'string' },
  description: { type: 'string' },
} as const;

export const command: Command = {
  options: OPTIONS,
  subcommands: ['apps', 'versions', 'vendors', 'vendor', 'add-vendor', 'add-app', 'admit'],
  async run(argv) {
    const args = subcommandArgs(orDefaultSubcommand(argv, 'apps'), HELP, OPTIONS);
    if (typeof args === 'number') return args;
    const { sub, values, positionals } = args;
    const format = outputFormat(values.output);
    const api = await apiClient(values);
    switch (sub) {
      case 'apps': {
        expectArgs(positionals, 0, 'berth catalog apps');
        const answer: AppsListed = await api('GET', '/api/v1/catalog/apps');
        print(format, answer, () =>
          table(answer.apps, [
            { header: 'app', cell: (a) => a.id },
            { header: 'vendor', cell: (a) => a.vendor },
            { header: 'description', cell: (a) => a.description },
            { header: 'created', cell: (a) => a.createdAt },
          ]),
        );
        return 0;
      }
      case 'versions': {
        const [app] = expectArgs(positionals, 1, 'berth catalog versions <app>') as [string];
        const answer: VersionsListed = await api('GET', `/api/v1/catalog/apps/${seg(app)}/versions`);
        print(format, answer, () =>
          table(answer.versions, [
            { header: 'version', cell: (v) => v.version },
            { header: 'digest', cell: (v) => v.component.digest },
            { header: 'size', cell: (v) => v.component.sizeBytes },
            { header: 'signer', cell: (v) => v.verification?.signer },
            { header: 'admitted', cell: (v) => v.createdAt },
          ]),
        );
        return 0;
      }
      case 'vendors': {
        expectArgs(positionals, 0, 'berth catalog vendors');
        const answer: VendorsListed = await api('GET', '/api/v1/catalog/vendors');
        print(format, answer, () =>
          table(answer.vendors, [
            { header: 'name', cell: (v) => v.name },
            { header: 'keys', cell: (v) => String(listOf(v.trustPolicy.publicKeys).length + listOf(v.trustPolicy.identities).length) },
            { header: 'repositories', cell: (v) => listOf(v.trustPolicy.repositories).join(' ') },
            { header: 'registered', cell: (v) => v.createdAt },
          ]),
        );
        return 0;
      }
      case 'vendor': {
        const [name] = expectArgs(positionals, 1, 'berth catalog vendor <name>') as [string];
        const vendor: VendorShown = await api('GET', `/api/v1/catalog/vendors/${seg(name)}`);
        print(format, vendor, () =>
          fields([
            ['name', vendor.name],
            ['registered', vendor.createdAt],
            ['trust policy', vendor.trustPolicy],
          ]),
        );
        return 0;
      }
      case 'add-vendor': {
        const [name] = expectArgs(positionals, 1, 'berth catalog add-vendor <name> --trust-policy <file>') as [string];
        if (!values['trust-policy']) throw new UsageError('add-vendor needs --trust-policy <file>');
        const answer: VendorRegistered = await api('POST', '/api/v1/catalog/vendors', { name, trustPolicy: readYamlOrJsonFile(values['trust-policy']) });
        print(format, answer, () => `vendor ${answer.name} registered\n`);
        return 0;
      }
      case 'add-app': {
        const [id] = expectArgs(positionals, 1, 'berth catalog add-app <id> [--vendor <name>] [--description <text>]') as [string];
        const answer: AppShown = await api('POST', '/api/v1/catalog/apps', {
          id,
          ...(values.vendor ? { vendor: values.vendor } : {}),
          ...(values.description ? { description: values.description } : {}),
        });
        print(format, answer, () => `app ${answer.id} created for vendor ${answer.vendor}\n`);
        return 0;
      }
      case 'admit': {
        const [app, version, reference] = expectArgs(positionals, 3, 'berth catalog admit <app> <version> <oci://registry/repo:VERSION>') as [
          string,
          string,
          string,
        ];
        const answer: VersionShown = await api('POST', `/api/v1/catalog/apps/${seg(app)}/versions`, { version, component: { reference } });
        print(format, answer, () => `${app} ${answer.version} admitted: ${answer.component.digest}, signed by ${answer.verification?.signer ?? '?'}\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand '${sub}'; see berth catalog --help`);
    }
  },
};

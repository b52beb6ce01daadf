import { BerthError } from '../common/errors.js';
import type { DeviceRevoked, DeviceShown, DevicesListed } from '../wire/devices.js';
import type { OnboardingDecided, OnboardingRequestsListed } from '../wire/onboarding.js';
import { apiClient, orDefaultSubcommand, subcommandArgs, TARGET_HELP, type ApiCall, TARGET_OPTIONS } from './api-subcommand.js';
import type { Command } from './main.js';
import { fields, OUTPUT_HELP, OUTPUT_OPTIONS, outputFormat, print, table } from './output.js';
import { expectArgs, UsageError } from './usage.js';

const HELP = `usage: berth devices [subcommand] [options]

  list (default)             the fleet's devices
  show <device-id>           one device
  pending                    onboarding requests waiting for an operator (--require-approval)
  approve <request-id|device-id>   let a pending device in
  deny <request-id|device-id>      turn a pending device away
  revoke <device-id>         revoke a device and its certificates; its apps move elsewhere
    --reason <text>
${OUTPUT_HELP}

${TARGET_HELP}`;

const REQUEST_ID = /^[0-9a-f]{32}$/;

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...OUTPUT_OPTIONS,
  reason: { type: 'string' },
} as const;

export const command: Command = {
  options: OPTIONS,
  operands: { show: 'device', revoke: 'device' },
  subcommands: ['list', 'show', 'pending', 'approve', 'deny', 'revoke'],
  async run(argv) {
    // `berth devices` and `berth devices -o json` list: the subcommand is optional.
    const args = subcommandArgs(orDefaultSubcommand(argv, 'list'), HELP, OPTIONS);
    if (typeof args === 'number') return args;
    const { sub, values, positionals } = args;
    const format = outputFormat(values.output);
    const api = await apiClient(values);
    switch (sub) {
      case 'list': {
        expectArgs(positionals, 0, 'berth devices list');
        const answer: DevicesListed = await api('GET', '/api/v1/admin/devices');
        print(format, answer, () => deviceTable(answer.devices));
        return 0;
      }
      case 'show': {
        const [id] = expectArgs(positionals, 1, 'berth devices show <device-id>');
        // The operator API lists devices; there is no per-device read to call.
        const { devices }: DevicesListed = await api('GET', '/api/v1/admin/devices');
        const device = devices.find((d) => d.id === id);
        if (!device) throw new BerthError('device.unknown', `no device '${id}'; see berth devices list`);
        print(format, device, () =>
          fields([
            ['id', device.id],
            ['status', device.status],
            ['onboarding', device.onboardingMethod],
            ['labels', labelText(device.labels)],
            ['created', device.createdAt],
            ['revoked', device.revokedAt],
            ['reason', device.revokedReason],
          ]),
        );
        return 0;
      }
      case 'pending': {
        expectArgs(positionals, 0, 'berth devices pending');
        const answer: OnboardingRequestsListed = await api('GET', '/api/v1/admin/onboarding-requests');
        print(format, answer, () =>
          table(answer.requests, [
            { header: 'request', cell: (r) => r.id },
            { header: 'device', cell: (r) => r.deviceId },
            { header: 'method', cell: (r) => r.method },
            { header: 'created', cell: (r) => r.createdAt },
          ]),
        );
        return 0;
      }
      case 'approve':
      case 'deny': {
        const [which] = expectArgs(positionals, 1, `berth devices ${sub} <request-id|device-id>`);
        const id = await requestId(api, which!);
        const answer: OnboardingDecided = await api('POST', `/api/v1/admin/onboarding-requests/${id}/${sub}`);
        print(format, answer, () => `request ${answer.requestId} ${answer.status}${answer.deviceId ? ` (device ${answer.deviceId})` : ''}\n`);
        return 0;
      }
      case 'revoke': {
        const [id] = expectArgs(positionals, 1, 'berth devices revoke <device-id> [--reason <text>]');
        const answer: DeviceRevoked = await api('POST', '/api/v1/admin/device-revocations', {
          deviceId: id,
          ...(values.reason ? { reason: values.reason } : {}),
        });
        print(format, answer, () => `device ${answer.deviceId} revoked\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand '${sub}'; see berth devices --help`);
    }
  },
};

export function deviceTable(devices: readonly DeviceShown[]): string {
  return table(devices, [
    { header: 'id', cell: (d) => d.id },
    { header: 'status', cell: (d) => d.status },
    { header: 'onboarding', cell: (d) => d.onboardingMethod },
    { header: 'labels', cell: (d) => labelText(d.labels) },
    { header: 'created', cell: (d) => d.createdAt },
  ]);
}

const labelText = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** A request id as given, or the one pending request of the device named: people know devices by id. */
async function requestId(api: ApiCall, which: string): Promise<string> {
  if (REQUEST_ID.test(which)) return which;
  const { requests }: OnboardingRequestsListed = await api('GET', '/api/v1/admin/onboarding-requests');
  const mine = requests.filter((r) => r.deviceId === which);
  if (mine.length !== 1)
    throw new BerthError(
      'onboarding.unknown_request',
      mine.length
        ? `device '${which}' has ${mine.length} pending requests; name one by its id`
        : `no pending request for device '${which}'; see berth devices pending`,
    );
  return mine[0]!.id;
}

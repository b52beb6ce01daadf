import type { DemoApp } from './apps.js';

/**
 * What each demo app is given, as the demo's deployments write it. The topic is shared by two
 * vendors, so it is granted on both sides (publish for acme, subscribe for globex); the
 * analytics app may get tokens for `historian` and nothing else.
 */
export const DEMO_GRANTS = {
  sensor: {
    vendor: 'acme',
    grants: {
      log: {},
      config: { values: { 'set-point': '21.5' } },
      messaging: { publish: ['plant/temperature'] },
      random: {},
      clocks: {},
      'inbound-http': { route: '/sensor' },
    },
  },
  analytics: {
    vendor: 'globex',
    grants: {
      log: {},
      messaging: { subscribe: ['plant/temperature'] },
      identity: { audiences: ['historian'] },
      // wasi:http's types name the monotonic clock's duration: any HTTP app imports it.
      clocks: {},
      'inbound-http': { route: '/analytics' },
    },
  },
} as const satisfies Record<DemoApp, { vendor: string; grants: Record<string, unknown> }>;

import type { AppIdentity } from '../../host-apis/app-context.js';
import type { MessagingMeter } from '../messaging/broker.js';
import type { UsageReport } from '../sandbox/protocol.js';
import { AppAccount } from './app-account.js';

/**
 * The device's usage accounts, one per app (vendor/app), kept across the app's restarts. Host
 * APIs on the controlling thread report through it by the caller's identity, which the runtime
 * gives them per instance: HTTP calls `recordBytes(spec.identity, 'in' | 'out', n)`.
 */
export class UsageLedger implements MessagingMeter {
  private readonly accounts = new Map<string, AppAccount>();

  /** The app's account, created on first use. */
  account(vendor: string, app: string): AppAccount {
    const key = `${vendor}/${app}`;
    let account = this.accounts.get(key);
    if (!account) this.accounts.set(key, (account = new AppAccount()));
    return account;
  }

  find(vendor: string, app: string): AppAccount | undefined {
    return this.accounts.get(`${vendor}/${app}`);
  }

  report(identity: AppIdentity, report: UsageReport): void {
    this.of(identity).report(identity.instance, report);
  }

  /** Payload bytes an app sent (`out`) or received (`in`) through a host API. */
  recordBytes(identity: AppIdentity, direction: 'in' | 'out', bytes: number): void {
    this.of(identity).recordBytes(direction, bytes);
  }

  published(identity: AppIdentity, bytes: number): void {
    const account = this.of(identity);
    account.recordMessages('published', 1);
    account.recordBytes('out', bytes);
  }

  received(identity: AppIdentity, messages: number, bytes: number): void {
    const account = this.of(identity);
    account.recordMessages('received', messages);
    account.recordBytes('in', bytes);
  }

  dropped(identity: AppIdentity, messages: number): void {
    this.of(identity).recordMessages('dropped', messages);
  }

  private of(identity: AppIdentity): AppAccount {
    return this.account(identity.vendor, identity.app);
  }
}

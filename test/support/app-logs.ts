import type { AppIdentity, AppLogRecord } from '../../host-apis/app-context.js';

/** Collects app log lines as a sandbox hook would deliver them. */
export class LogCapture {
  readonly lines: { identity: AppIdentity; record: AppLogRecord }[] = [];
  readonly hook = (identity: AppIdentity, record: AppLogRecord): void => {
    this.lines.push({ identity, record });
  };
  messages(app?: string): string[] {
    return this.lines.filter((l) => !app || l.identity.app === app).map((l) => l.record.message);
  }
}

export async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

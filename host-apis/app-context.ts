/** Who an instance is: every host API tags what it does with this. */
export interface AppIdentity {
  vendor: string;
  app: string;
  /** Unique per running instance (a restart gets a new one). */
  instance: string;
}

export type AppLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface AppLogRecord {
  level: AppLogLevel;
  message: string;
  fields?: Record<string, string>;
  /** Where the line came from: the log interface, or the app's stdout/stderr. */
  source: 'log' | 'stdout' | 'stderr' | 'host';
}

/** Where an instance's log lines go (the worker forwards them to the agent's logger). */
export type AppLogSink = (record: AppLogRecord) => void;

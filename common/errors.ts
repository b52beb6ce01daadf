/**
 * The base of every error Berth raises on purpose. `code` is stable and machine-readable
 * (tests and problem documents use it); `message` is for people and names what was wrong.
 */
export class BerthError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BerthError';
    this.code = code;
    this.details = details;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The stable `code` of an error that has one (BerthError, Node's system errors), else `fallback`. */
export function errorCode(err: unknown, fallback: string): string {
  return err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : fallback;
}

/**
 * The control plane's JSON API, called with the signed-in token as a bearer header. Paths are
 * relative to the console (served at <control plane>/console/), so a control plane behind a
 * path prefix works unchanged.
 */

/** An RFC 9457 problem the API answered, or a failure to reach it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Api {
  constructor(
    private readonly token: string,
    /** Told of a 401: the token is no longer accepted, and the console signs out. */
    private readonly onUnauthorized: () => void = () => {},
  ) {}

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.call<T>('GET', path, undefined, signal);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`../api/v1${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ApiError(0, 'network', 'The control plane could not be reached');
    }
    const payload: unknown = response.status === 204 ? undefined : await response.json().catch(() => undefined);
    if (response.ok) return payload as T;
    if (response.status === 401) this.onUnauthorized();
    const problem = (payload ?? {}) as { title?: string; detail?: string; code?: string };
    const message = [problem.title, problem.detail].filter(Boolean).join(': ') || `HTTP ${response.status}`;
    throw new ApiError(response.status, problem.code ?? 'http', message);
  }
}

/** A path segment, encoded. */
export const seg = (value: string): string => encodeURIComponent(value);

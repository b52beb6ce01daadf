import { failure, httpsJson } from '../../runtime/agent/https.js';

/** What an operator or vendor script needs of the control plane's API: JSON over verified HTTPS with a bearer token. */
export interface OperatorClient {
  call<T = any>(method: string, path: string, body?: unknown): Promise<T>;
}

/** Admission pulls and verifies from the registry inside the request: give it time. */
const BOUNDS = { maxBytes: 4 * 1024 * 1024, timeoutMs: 150_000 };

export function operatorClient(baseUrl: string, ca: string | string[], token: string): OperatorClient {
  return {
    async call(method, path, body) {
      const answer = await httpsJson(new URL(path, baseUrl).href, { ca }, method, body, undefined, {
        ...BOUNDS,
        headers: { authorization: `Bearer ${token}` },
      });
      if (answer.status < 200 || answer.status >= 300) throw failure(answer, `${method} ${path}`);
      return answer.body as any;
    },
  };
}

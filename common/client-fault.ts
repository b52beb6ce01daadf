import { errorCode } from './errors.js';

/**
 * Whether an error that escaped a handler came from the client's side (it went away, or sent
 * bytes Node's parser refused mid-body) rather than from a bug. Every HTTP server of Berth's (the
 * control plane, the embedded registry) answers these as the client's fault and logs them below
 * error level, so that nobody can write error-level log lines by sending broken requests.
 */
export function isClientFault(err: unknown, request: Request): boolean {
  if (request.signal.aborted) return true;
  const code = errorCode(err, '');
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code.startsWith('HPE_') || (err instanceof Error && err.message === 'aborted');
}

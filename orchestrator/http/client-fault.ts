import { errorCode } from '../../common/errors.js';
import { HttpProblem } from './problem.js';

/**
 * Whether an error that escaped a handler came from the client's side (it went away, or sent
 * bytes Node's parser refused mid-body) rather than from a bug. The body readers answer these
 * themselves (http/body.ts); this is the net under any reader that does not, so that nobody can
 * write error-level log lines by sending broken requests.
 */
export function isClientFault(err: unknown, request: Request): boolean {
  if (request.signal.aborted) return true;
  const code = errorCode(err, '');
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code.startsWith('HPE_') || (err instanceof Error && err.message === 'aborted');
}

export function clientFaultProblem(): HttpProblem {
  return new HttpProblem(400, 'request.body_unreadable', 'The request could not be read', { detail: 'the client closed the connection or sent a body whose framing is not valid' });
}

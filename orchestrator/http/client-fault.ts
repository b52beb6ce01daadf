import { HttpProblem } from './problem.js';

export { isClientFault } from '../../common/client-fault.js';

/** The answer to a request whose body could not be read (common/client-fault.ts says when). */
export function clientFaultProblem(): HttpProblem {
  return new HttpProblem(400, 'request.body_unreadable', 'The request could not be read', {
    detail: 'the client closed the connection or sent a body whose framing is not valid',
  });
}

/**
 * `wasi:io/error`, `wasi:io/streams` and `wasi:io/poll`, keyed as jco's instantiation-mode
 * glue looks them up (version stripped, functions camelCase). These classes hold no
 * authority, so one object serves every app in a thread; authority lives in the instances
 * other host APIs create.
 */
import { Pollable, poll } from './poll.js';
import { InputStream, IoError, OutputStream } from './streams.js';

export { Pollable, poll, readyPollable, timerPollable, sleepUntil, type PollableSource } from './poll.js';
export {
  InputStream,
  IoError,
  OutputStream,
  streamClosed,
  streamFailed,
  type InputStreamHandler,
  type OutputStreamHandler,
  type StreamError,
} from './streams.js';

export interface IoHost {
  'wasi:io/error': { Error: typeof IoError };
  'wasi:io/streams': { InputStream: typeof InputStream; OutputStream: typeof OutputStream };
  'wasi:io/poll': { Pollable: typeof Pollable; poll: typeof poll };
}

export const ioHost: IoHost = Object.freeze({
  'wasi:io/error': Object.freeze({ Error: IoError }),
  'wasi:io/streams': Object.freeze({ InputStream, OutputStream }),
  'wasi:io/poll': Object.freeze({ Pollable, poll }),
});

export function createIoHost(): IoHost {
  return ioHost;
}

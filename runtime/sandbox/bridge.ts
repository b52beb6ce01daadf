import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { exceedsBytes } from './result-size.js';
import { BerthError, errorMessage } from '../../common/errors.js';
import { checkWait, waitSlice } from '../../host-apis/blocking-wait.js';

/**
 * Makes asynchronous host work look synchronous to the guest (no JSPI on Node 20): the worker
 * posts a request and blocks in `Atomics.wait`; the main thread does the work, posts the answer
 * and wakes it. Each call carries an id so that an answer arriving after its caller gave up is
 * recognised and dropped rather than taken for the next call's answer.
 */
export interface BridgeRequest {
  id: number;
  method: string;
  args: unknown[];
}

export type BridgeResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: unknown };

export interface BridgeChannel {
  signal: SharedArrayBuffer;
  port: MessagePort;
}

const WAITING = 0;
const ANSWERED = 1;

export class BridgeClient {
  private connection: { channel: BridgeChannel; flag: Int32Array } | undefined;
  private nextId = 1;

  /**
   * `open` is the channel, or a function that opens one: called on the first call only, so an
   * instance that never calls the host never pays for a channel.
   */
  constructor(
    private readonly open: BridgeChannel | (() => BridgeChannel),
    private readonly timeoutMs: number,
  ) {}

  private connected(): { channel: BridgeChannel; flag: Int32Array } {
    if (!this.connection) {
      const channel = typeof this.open === 'function' ? this.open() : this.open;
      this.connection = { channel, flag: new Int32Array(channel.signal) };
    }
    return this.connection;
  }

  /** Calls `method` on the host and blocks until it answers; the host's error is rethrown. */
  call(method: string, args: unknown[]): unknown {
    // Copied to the controlling thread, whose heap is every app's: bounded like a call's result.
    if (exceedsBytes(args, MAX_HOST_CALL_BYTES))
      throw new BerthError('host-call-too-large', `host call ${method} carries more than ${MAX_HOST_CALL_BYTES / 2 ** 20} MiB`);
    const { channel, flag } = this.connected();
    const id = this.nextId++;
    Atomics.store(flag, 0, WAITING);
    channel.port.postMessage({ id, method, args } satisfies BridgeRequest);
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new BridgeTimeout(method, this.timeoutMs);
      if (Atomics.wait(flag, 0, WAITING, waitSlice(left)) === 'timed-out') {
        checkWait();
        continue;
      }
      Atomics.store(flag, 0, WAITING);
      let message;
      while ((message = receiveMessageOnPort(channel.port))) {
        const response = message.message as BridgeResponse;
        if (response.id !== id) continue;
        if (response.ok) return response.value;
        throw response.error;
      }
    }
  }
}

/**
 * What one host call may carry to the controlling thread (docs/hostile.md, "Heap"): above the
 * largest body a grant allows (64 MiB of outbound HTTP request), far below what would strain it.
 */
export const MAX_HOST_CALL_BYTES = 80 * 2 ** 20;

export class BridgeTimeout extends BerthError {
  constructor(method: string, timeoutMs: number) {
    super('host-call-timeout', `host call ${method} did not answer within ${timeoutMs} ms`);
  }
}

export type BridgeHandlers = Record<string, (...args: any[]) => unknown>;

/** The main-thread side: answers a worker's requests with the given handlers. */
export function serveBridge(channel: BridgeChannel, handlers: BridgeHandlers): () => void {
  const flag = new Int32Array(channel.signal);
  const answer = (response: BridgeResponse) => {
    channel.port.postMessage(response);
    Atomics.store(flag, 0, ANSWERED);
    Atomics.notify(flag, 0);
  };
  const onMessage = async (request: BridgeRequest) => {
    const handler = handlers[request.method];
    if (!handler) {
      answer({ id: request.id, ok: false, error: { payload: { tag: 'unavailable', val: `no host method ${request.method}` } } });
      return;
    }
    try {
      answer({ id: request.id, ok: true, value: await handler(...request.args) });
    } catch (err) {
      // Errors cross the thread boundary by structured clone: keep guest-facing payloads as
      // they are and turn anything else into a plain message.
      const error = err && typeof err === 'object' && 'payload' in err ? { payload: (err as { payload: unknown }).payload } : { message: errorMessage(err) };
      answer({ id: request.id, ok: false, error });
    }
  };
  channel.port.on('message', onMessage);
  return () => {
    channel.port.off('message', onMessage);
    channel.port.close();
  };
}

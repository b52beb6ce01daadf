import net from 'node:net';

/** What one load run is asked to do: a fixed number of keep-alive connections for a fixed time. */
export interface LoadSpec {
  port: number;
  path: string;
  connections: number;
  /** Requests started before this much time has passed are sent but not counted. */
  warmupMs: number;
  durationMs: number;
  /** A request not answered within this is an error; its connection is replaced. */
  requestTimeoutMs: number;
}

/** What a load run measured, whichever tool sent the requests. */
export interface LoadResult {
  tool: string;
  requests: number;
  errors: number;
  /** Up to a few distinct error descriptions, for the report. */
  errorKinds: string[];
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Past this many latencies only the count goes on (a bound on this process's memory). */
const MAX_SAMPLES = 4_000_000;

/**
 * The Node load generator, run in a child process of its own (http-load.ts) so that it never
 * shares an event loop with what it measures. It writes raw HTTP/1.1 on `connections` sockets,
 * one request at a time on each (no pipelining, like wrk), and reads answers framed by
 * Content-Length: both the gateway and the bare handler set it. Anything else is an error.
 */
export async function runNodeLoad(spec: LoadSpec): Promise<LoadResult> {
  const request = Buffer.from(`GET ${spec.path} HTTP/1.1\r\nHost: 127.0.0.1:${spec.port}\r\nUser-Agent: berth-bench\r\nAccept: */*\r\n\r\n`, 'latin1');
  const start = performance.now();
  const countFrom = start + spec.warmupMs;
  const endAt = countFrom + spec.durationMs;
  const latencies: number[] = [];
  const tally = { requests: 0, errors: 0, kinds: new Set<string>() };
  const fail = (kind: string, sentAt: number) => {
    if (sentAt < countFrom) return;
    tally.errors++;
    if (tally.kinds.size < 5) tally.kinds.add(kind);
  };
  const done = (sentAt: number) => {
    if (sentAt < countFrom) return;
    tally.requests++;
    if (latencies.length < MAX_SAMPLES) latencies.push(performance.now() - sentAt);
  };
  await Promise.all(Array.from({ length: spec.connections }, () => connectionLoop(spec, request, endAt, done, fail)));
  const seconds = (Math.min(performance.now(), endAt) - countFrom) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]! : NaN);
  return {
    tool: 'node',
    requests: tally.requests,
    errors: tally.errors,
    errorKinds: [...tally.kinds],
    seconds,
    requestsPerSecond: tally.requests / seconds,
    p50Ms: at(50),
    p99Ms: at(99),
  };
}

/** One connection sending requests back to back until `endAt`; a failed one is replaced. */
async function connectionLoop(
  spec: LoadSpec,
  request: Buffer,
  endAt: number,
  done: (sentAt: number) => void,
  fail: (kind: string, sentAt: number) => void,
): Promise<void> {
  // Bounded: a connection that keeps failing stops after this many in a row.
  let failuresInRow = 0;
  while (performance.now() < endAt && failuresInRow < 50) {
    const outcome = await connection(spec, request, endAt, done, fail);
    failuresInRow = outcome === 'failed' ? failuresInRow + 1 : 0;
  }
}

function connection(
  spec: LoadSpec,
  request: Buffer,
  endAt: number,
  done: (sentAt: number) => void,
  fail: (kind: string, sentAt: number) => void,
): Promise<'ended' | 'failed'> {
  return new Promise((resolve) => {
    const socket = net.connect({ port: spec.port, host: '127.0.0.1', noDelay: true });
    let pending: Buffer = Buffer.alloc(0);
    let sentAt = performance.now();
    let answered = 0;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (outcome: 'ended' | 'failed', kind?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.destroy();
      if (kind) fail(kind, sentAt);
      resolve(outcome === 'failed' && answered > 0 ? 'ended' : outcome);
    };
    const send = () => {
      if (performance.now() >= endAt) return finish('ended');
      sentAt = performance.now();
      clearTimeout(timer);
      timer = setTimeout(() => finish('failed', 'timeout'), spec.requestTimeoutMs);
      socket.write(request);
    };
    socket.on('connect', send);
    socket.on('error', (err: NodeJS.ErrnoException) => finish('failed', `socket: ${err.code ?? err.message}`));
    socket.on('close', () => finish('failed', 'connection closed'));
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      const parsed = parseResponse(pending);
      if (parsed === 'incomplete') return;
      if (typeof parsed === 'string') return finish('failed', parsed);
      pending = pending.subarray(parsed.length);
      answered++;
      if (parsed.status >= 200 && parsed.status < 400) done(sentAt);
      else fail(`status ${parsed.status}`, sentAt);
      if (pending.length > 0) return finish('failed', 'more bytes than one response');
      send();
    });
  });
}

/** One whole response at the start of `data`: its status and length; 'incomplete'; or what is wrong. */
export function parseResponse(data: Buffer): { status: number; length: number } | 'incomplete' | string {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd === -1) return data.length > 64 * 1024 ? 'response header over 64 KiB' : 'incomplete';
  const head = data.subarray(0, headEnd).toString('latin1');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!status) return 'not an HTTP/1.x response';
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!length) return 'response without Content-Length';
  const total = headEnd + 4 + Number(length[1]);
  return data.length < total ? 'incomplete' : { status: Number(status[1]), length: total };
}

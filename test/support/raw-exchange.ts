import type { Socket } from 'node:net';

/**
 * Writes `parts` to a fresh connection with a pause between them (so a server sees them as
 * separate reads), then reads until the server closes or 5 s pass. For requests no HTTP client
 * sends: bad chunking, bodies cut short, lengths that lie. `open` makes the connection (plain or
 * TLS) and names the event that says it is ready.
 */
export function rawExchange(open: () => { socket: Socket; ready: 'connect' | 'secureConnect' }, parts: string[], endAfterWrite = false): Promise<string> {
  return new Promise((resolve) => {
    const { socket, ready } = open();
    let answer = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, 5000);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('close', done);
    socket.on('error', done);
    socket.once(ready, async () => {
      for (const part of parts) {
        socket.write(part);
        await new Promise((r) => setTimeout(r, 50));
      }
      if (endAfterWrite) socket.end();
    });
  });
}

/** `host:port` or `[v6]:port` (`127.0.0.1:9464`, `[::1]:9464`); undefined when it is neither. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}

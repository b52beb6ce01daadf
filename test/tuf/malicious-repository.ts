import { HttpsTufFetcher } from '../../trust/tuf/https-fetcher.js';

/** What the attacker serves for a URL, in place of the repository's answer. */
export type Forgery = Buffer | string | (() => AsyncIterable<Uint8Array>);

/**
 * A repository an attacker controls (the network between device and control plane, or the
 * control plane's web server): it serves the real files except those it forges, by the end of
 * their URL. It holds no keys unless a test gives it stolen ones.
 */
export class MaliciousRepository extends HttpsTufFetcher {
  private readonly forgeries = new Map<string, Forgery>();
  /** Every URL the client asked for, in order. */
  readonly asked: string[] = [];

  forge(urlEnd: string, answer: Forgery): this {
    this.forgeries.set(urlEnd, answer);
    return this;
  }

  honest(): this {
    this.forgeries.clear();
    return this;
  }

  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    this.asked.push(url);
    const forged = [...this.forgeries].find(([end]) => url.endsWith(end))?.[1];
    if (forged === undefined) return super.fetch(url);
    if (typeof forged === 'function') return ReadableStream.from(forged()) as ReadableStream<Uint8Array<ArrayBuffer>>;
    return new Response(forged).body as ReadableStream<Uint8Array<ArrayBuffer>>;
  }
}

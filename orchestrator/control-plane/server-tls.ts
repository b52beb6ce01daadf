import type { Logger } from '../../common/logger.js';
import { issueServerCertificate } from '../../trust/authority.js';
import { certificateToPem, privateKeyToPem } from '../../trust/x509.js';
import type { RunningServer, TlsMaterial } from '../http/serve.js';
import type { FleetAuthority } from '../pki/fleet-authority.js';

const SERVER_CERT_LIFETIME_MS = 30 * 86_400_000;

/** The listener's own certificate, issued by the fleet CA for the names it is reached by. */
export class ServerTls {
  private readonly names: string[];

  constructor(
    private readonly authority: FleetAuthority,
    host: string,
    serverNames: readonly string[] = [],
  ) {
    this.names = [...new Set([host, 'localhost', '127.0.0.1', ...serverNames])].filter((n) => n !== '0.0.0.0' && n !== '::');
  }

  async material(): Promise<TlsMaterial> {
    const issuer = await this.authority.serverIssuer();
    const server = await issueServerCertificate(issuer, this.authority.trustDomain, this.names, { lifetimeMs: SERVER_CERT_LIFETIME_MS });
    return {
      key: await privateKeyToPem(server.keys.privateKey),
      cert: certificateToPem(server.certificate) + certificateToPem(issuer.certificate),
      ca: this.authority.trustAnchorsPem(),
    };
  }

  /** Renews the running server's material after every CA change and at half its lifetime; returns the stop. */
  keepCurrent(running: RunningServer, logger: Logger): () => void {
    this.authority.onChange(async () => {
      try {
        running.updateTls(await this.material());
      } catch (err) {
        logger.error({ err }, 'could not renew the server TLS material');
      }
    });
    // The server's own certificate is short-lived too: a fresh one at half its lifetime.
    const renewal = setInterval(() => {
      this.material().then(running.updateTls, (err: unknown) => logger.error({ err }, 'could not renew the server certificate'));
    }, SERVER_CERT_LIFETIME_MS / 2).unref();
    return () => clearInterval(renewal);
  }
}

/**
 * The `tls.acme` feature. acme-client and what it pulls in (an X.509 and an
 * HTTP stack) cost ~8 MB of heap once loaded, so the manager is imported
 * only when the config turns ACME on: a server without it never loads them.
 */
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';

export const acmeFeature: Feature = {
  name: 'acme',
  async install(ctx: ServerContext): Promise<FeatureHandle> {
    if (!ctx.config.tls.acme.enabled) return {};
    const { AcmeManager } = await import('./acme-manager.js');
    const m = new AcmeManager(ctx);
    ctx.routes.stream.push((req, res, url) => {
      const answer = m.challenge(url.pathname);
      if (answer === null) return false;
      res.writeHead(answer ? 200 : 404, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(answer) });
      res.end(answer);
      return true;
    });
    void m.start().catch((err: Error) => ctx.log.error({ err: err.message }, 'ACME: cannot start'));
    return { stop: () => m.stop() };
  },
};

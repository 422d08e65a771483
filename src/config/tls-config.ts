// The typed view of the Sluice `tls` block (docs/TLS.md): what every TLS
// listener shares — the handshake timeout, file watching and SNI certificates
// (ACME is declared in the schema, not acted on yet).

import type { Scope } from './scope.js';
import type { ChildrenOf } from './schema-types.js';
import type { RootSchema } from './schema.js';

interface SniCertificate {
  /** Host names from the block's arguments, lower case; `*.example.com` matches one label. */
  names: string[];
  key: string;
  cert: string;
}

export interface TlsConfig {
  /** ms */
  handshakeTimeout: number;
  watch: boolean;
  sni: SniCertificate[];
}

export function buildTlsConfig(s: Scope<ChildrenOf<RootSchema['tls']>>): TlsConfig {
  return {
    handshakeTimeout: Math.max(100, s.get('handshake_timeout')),
    watch: s.get('watch'),
    sni: s.each('sni').map((b) => ({ names: (b.node?.args ?? []).map((a) => a.toLowerCase()), key: b.get('key'), cert: b.get('cert') })),
  };
}

// The typed view of the Sluice `tls` block (docs/TLS.md): what every TLS
// listener shares — the handshake timeout, file watching and SNI certificates
// and ACME automatic certificates.

import type { Scope } from './scope.js';
import type { ChildrenOf } from './schema-types.js';
import type { RootSchema } from './schema.js';

interface SniCertificate {
  /** Host names from the block's arguments, lower case; `*.example.com` matches one label. */
  names: string[];
  key: string;
  cert: string;
}

interface AcmeConfig {
  enabled: boolean;
  directory: string;
  email: string;
  domains: string[];
  /** days */
  renewBefore: number;
  /** '' = system CAs. */
  caFile: string;
  dir: string;
}

export interface TlsConfig {
  /** ms */
  handshakeTimeout: number;
  watch: boolean;
  sni: SniCertificate[];
  acme: AcmeConfig;
}

export function buildTlsConfig(s: Scope<ChildrenOf<RootSchema['tls']>>): TlsConfig {
  const acme = s.child('acme');
  return {
    handshakeTimeout: Math.max(100, s.get('handshake_timeout')),
    watch: s.get('watch'),
    sni: s.each('sni').map((b) => ({ names: (b.node?.args ?? []).map((a) => a.toLowerCase()), key: b.get('key'), cert: b.get('cert') })),
    acme: {
      enabled: acme.get('enabled'),
      directory: acme.get('directory'),
      email: acme.get('email'),
      domains: acme.get('domains').map((d) => d.toLowerCase()),
      renewBefore: acme.get('renew_before'),
      caFile: acme.get('ca_file'),
      dir: acme.get('dir'),
    },
  };
}

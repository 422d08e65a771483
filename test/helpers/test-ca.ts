/**
 * A throwaway certificate authority made with `openssl` in a temp dir, and
 * server certificates it signs (SANs: the names asked, plus localhost and
 * 127.0.0.1), so that TLS clients can verify what the server presents.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  /** The CA's certificate (PEM file). */
  caCert: string;
  /** Issues a key + certificate for `names` (the first is the CN); `days` of validity. */
  issue(label: string, names: string[], days?: number): { key: string; cert: string };
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ca-'));
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCert, '-days', '2', '-subj', '/CN=Sluice Test CA'], dir);
  let serial = 1;
  return {
    dir,
    caCert,
    issue(label, names, days = 2) {
      const key = join(dir, `${label}.key`);
      const csr = join(dir, `${label}.csr`);
      const cert = join(dir, `${label}.crt`);
      const ext = join(dir, `${label}.ext`);
      const san = [...names, 'localhost'].map((n) => `DNS:${n}`).concat('IP:127.0.0.1').join(',');
      writeFileSync(ext, `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${names[0] ?? 'localhost'}`], dir);
      openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-set_serial', String(serial++), '-days', String(days), '-extfile', ext, '-out', cert], dir);
      return { key, cert };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Automatic certificates over ACME (`tls.acme`, docs/TLS.md) with
 * `acme-client` (loaded by acme-feature.ts only when `tls.acme` is on): HTTP-01 answered on the HTTP port under
 * `/.well-known/acme-challenge/`, a certificate issued at start (or the one
 * kept under `tls.acme.dir` used while it is valid), renewed `renew_before`
 * days before it expires, and handed to the certificate store, which swaps it
 * in for new handshakes. A failure is logged with its reason and retried with
 * a growing delay (5 s doubling to 1 h).
 */
import https from 'node:https';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import acme from 'acme-client';
import type { ServerContext } from '../../core/server-context.js';

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
const RETRY_MIN_MS = 5000;
const RETRY_MAX_MS = 3_600_000;
/** A renewal is never planned sooner than this after an issuance (a `renew_before` longer than the CA's validity). */
const MIN_RENEW_GAP_MS = 30_000;
/** setTimeout's limit (~24.8 days): a later renewal is re-planned on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const DAY_MS = 86_400_000;

// acme-client retries a refused connection 5 times over 75 s before its caller hears of it:
// kept short, so that the retry with backoff below is the one that logs why.
const settings = (acme.axios.defaults as { acmeSettings?: { retryMaxAttempts: number; retryDefaultDelay: number } }).acmeSettings;
if (settings) {
  settings.retryMaxAttempts = 2;
  settings.retryDefaultDelay = 1;
}

async function writeAtomically(file: string, data: string | Buffer): Promise<void> {
  await writeFile(`${file}.tmp`, data, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

async function readOrNull(file: string): Promise<Buffer | null> {
  return readFile(file).catch(() => null);
}

export class AcmeManager {
  private readonly tokens = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MIN_MS;
  private stopped = false;

  constructor(private readonly ctx: ServerContext) {}

  private get cfg() {
    return this.ctx.config.tls.acme;
  }

  private get log() {
    return this.ctx.log;
  }

  /** The HTTP-01 answer, or null for any other path. */
  challenge(path: string): string | null {
    if (!path.startsWith(CHALLENGE_PREFIX)) return null;
    return this.tokens.get(path.slice(CHALLENGE_PREFIX.length)) ?? '';
  }

  async start(): Promise<void> {
    const { domains, dir } = this.cfg;
    if (domains.length === 0) {
      this.log.error('ACME: tls.acme has no domains; no certificate will be requested');
      return;
    }
    await mkdir(dir, { recursive: true });
    const key = await readOrNull(this.file('key'));
    const cert = await readOrNull(this.file('crt'));
    if (key && cert) {
      try {
        const notAfter = this.ctx.tls.install(domains, key.toString(), cert.toString());
        this.log.info({ domains, notAfter: notAfter.toISOString() }, 'ACME: certificate loaded from the work dir');
        this.plan(notAfter);
        return;
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'ACME: the kept certificate does not load; requesting a new one');
      }
    }
    this.at(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private file(ext: 'key' | 'crt'): string {
    return join(this.cfg.dir, `${this.cfg.domains[0] ?? 'default'}.${ext}`);
  }

  private at(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.issue(), Math.min(ms, MAX_TIMER_MS));
    this.timer.unref();
  }

  private plan(notAfter: Date): void {
    const renewAt = notAfter.getTime() - this.cfg.renewBefore * DAY_MS;
    const ms = Math.max(renewAt - Date.now(), MIN_RENEW_GAP_MS);
    this.log.info({ renewAt: new Date(Date.now() + ms).toISOString() }, 'ACME: renewal planned');
    if (ms > MAX_TIMER_MS) {
      // Re-plan on the way; the certificate is still checked against the clock then.
      this.timer = setTimeout(() => this.plan(notAfter), MAX_TIMER_MS);
      this.timer.unref();
      return;
    }
    this.at(ms);
  }

  private async accountKey(): Promise<Buffer> {
    const file = join(this.cfg.dir, 'account.key');
    const kept = await readOrNull(file);
    if (kept) return kept;
    const key = await acme.crypto.createPrivateKey();
    await writeAtomically(file, key);
    return key;
  }

  private acmeClient: acme.Client | null = null;

  private async client(): Promise<acme.Client> {
    if (this.acmeClient) return this.acmeClient;
    const url = (await readOrNull(join(this.cfg.dir, 'account.url')))?.toString().trim();
    this.acmeClient = new acme.Client({
      directoryUrl: this.cfg.directory,
      accountKey: await this.accountKey(),
      ...(url ? { accountUrl: url } : {}),
      backoffAttempts: 3,
      backoffMin: 1000,
      backoffMax: 3000,
    });
    return this.acmeClient;
  }

  private async issue(): Promise<void> {
    const { domains, directory, email, caFile } = this.cfg;
    const started = Date.now();
    try {
      if (caFile) acme.axios.defaults.httpsAgent = new https.Agent({ ca: readFileSync(caFile) });
      const client = await this.client();
      const [key, csr] = await acme.crypto.createCsr({ commonName: domains[0]!, altNames: domains });
      const cert = await client.auto({
        csr,
        ...(email ? { email } : {}),
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        // The CA checks the HTTP port itself; acme-client's own pre-check would ask port 80.
        skipChallengeVerification: true,
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
          this.tokens.set(challenge.token, keyAuthorization);
        },
        challengeRemoveFn: async (_authz, challenge) => {
          this.tokens.delete(challenge.token);
        },
      });
      if (this.stopped) return;
      // Known from now on: a later order (or a restart) does not create the account again,
      // which with no contact would be an empty update that pebble and RFC 8555 refuse.
      await writeAtomically(join(this.cfg.dir, 'account.url'), client.getAccountUrl()).catch(() => undefined);
      await writeAtomically(this.file('key'), key);
      await writeAtomically(this.file('crt'), cert);
      const notAfter = this.ctx.tls.install(domains, key.toString(), cert);
      this.log.info({ domains, directory, ms: Date.now() - started, notAfter: notAfter.toISOString() }, 'ACME: certificate issued');
      this.retryMs = RETRY_MIN_MS;
      this.plan(notAfter);
    } catch (err) {
      if (this.stopped) return;
      const e = err as Error & { code?: string; cause?: { code?: string } };
      const reason = e.message.slice(0, 300);
      this.log.error({ domains, directory, err: reason, code: e.code ?? e.cause?.code, retryInMs: this.retryMs }, 'ACME: certificate request failed; retrying');
      this.at(this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    }
  }
}

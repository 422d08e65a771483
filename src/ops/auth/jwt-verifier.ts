/**
 * Verifies one token against a vhost's `jwt` settings with jose: HS256 with
 * the shared secret, RS256/ES256 with the JWKS URL's keys (both may be set;
 * the token's `alg` picks). Only those algorithms are accepted, so `alg:
 * none` and algorithm swaps are refused; `exp` and `nbf` are checked with
 * the configured leeway, `iss` and `aud` when configured.
 */
import { jwtVerify, type JWTPayload, type JWSHeaderParameters, type FlattenedJWSInput, type CryptoKey } from 'jose';
import type { JwtConfig } from '../../config/vhost-config.js';
import type { JwksKeySet } from './jwks-key-set.js';

const JWKS_ALGORITHMS = ['RS256', 'ES256'];

export class JwtVerifier {
  private readonly secret: Uint8Array | null;
  private readonly algorithms: string[];

  constructor(
    private readonly cfg: JwtConfig,
    private readonly jwks: JwksKeySet | null,
  ) {
    this.secret = cfg.secret ? new TextEncoder().encode(cfg.secret) : null;
    this.algorithms = [...(this.secret ? ['HS256'] : []), ...(jwks ? JWKS_ALGORITHMS : [])];
  }

  /** Whether any key is configured (a vhost with neither admits nobody). */
  get configured(): boolean {
    return this.algorithms.length > 0;
  }

  /** The verified payload; throws (jose's errors, KeyUnavailable) when the token is not acceptable. */
  async verify(token: string): Promise<JWTPayload> {
    const getKey = (header: JWSHeaderParameters, input: FlattenedJWSInput): Promise<CryptoKey | Uint8Array> | Uint8Array => {
      if (header.alg === 'HS256' && this.secret) return this.secret;
      if (this.jwks) return this.jwks.key(header, input);
      throw new Error(`no key for alg ${String(header.alg)}`);
    };
    const { payload } = await jwtVerify(token, getKey, {
      algorithms: this.algorithms,
      clockTolerance: this.cfg.leeway,
      ...(this.cfg.issuer ? { issuer: this.cfg.issuer } : {}),
      ...(this.cfg.audience ? { audience: this.cfg.audience } : {}),
    });
    return payload;
  }
}

/**
 * HS256 tokens for the JWT tests, signed with jose as an issuer would: the
 * `sluice` claim grants publish/play stream patterns; `exp` an hour away
 * unless given. One shared secret for every test server (at least 32 bytes,
 * as HS256 wants).
 */
import { SignJWT } from 'jose';

export const JWT_TEST_SECRET = 'integration-test-secret-of-32-characters+';

export interface StreamGrants {
  publish?: string[];
  play?: string[];
}

/** Seconds since the epoch, the unit of `exp`/`nbf`. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function signToken(grants: StreamGrants, exp = nowSeconds() + 3600, secret = JWT_TEST_SECRET): Promise<string> {
  return new SignJWT({ sluice: grants }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(new TextEncoder().encode(secret));
}

/**
 * The SRS API level Sluice answers as. SRS tools gate on `/api/v1/versions`'
 * major (e.g. "needs SRS 5+"), so Sluice reports the SRS release whose API it
 * implements — the one the team's SRS contract sheet was read from — and its
 * own version in an extra field (docs/API.md says why 7.0.18).
 */
import { VERSION } from '../version.js';

export const SRS_API_VERSION = '7.0.18';

export function versionsData(): Record<string, unknown> {
  const [major, minor, revision] = SRS_API_VERSION.split('.').map(Number);
  return { major, minor, revision, version: SRS_API_VERSION, sluice: VERSION };
}

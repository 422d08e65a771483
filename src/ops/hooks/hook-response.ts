/**
 * SRS's rule for judging a callback's answer (contract §3.1): status 200 or
 * 201, a non-empty body that is exactly `0` or a JSON object whose integer
 * `code` is 0. Everything else is a refusal, with SRS's error code.
 */
const HOOK_ERROR_STATUS = 4005;
const HOOK_ERROR_CODE = 3064;
const HOOK_ERROR_DATA = 3008;

export type HookVerdict = { ok: true } | { ok: false; code: number; reason: string };

export function judgeHookResponse(status: number, body: string): HookVerdict {
  if (status !== 200 && status !== 201) return { ok: false, code: HOOK_ERROR_STATUS, reason: `HTTP status ${status}` };
  if (body.length === 0) return { ok: false, code: HOOK_ERROR_DATA, reason: 'empty response body' };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, code: HOOK_ERROR_DATA, reason: 'response body is not JSON' };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return body === '0' ? { ok: true } : { ok: false, code: HOOK_ERROR_DATA, reason: `response body ${JSON.stringify(body.slice(0, 40))} is neither 0 nor an object` };
  }
  const code = (json as { code?: unknown }).code;
  if (code === undefined) return { ok: false, code: HOOK_ERROR_CODE, reason: 'response has no code' };
  if (typeof code !== 'number' || !Number.isInteger(code)) return { ok: false, code: HOOK_ERROR_CODE, reason: 'response code is not an integer' };
  if (code !== 0) return { ok: false, code: HOOK_ERROR_CODE, reason: `response code ${code}` };
  return { ok: true };
}

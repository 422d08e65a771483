/**
 * CORS as SRS does it: `http_server.crossdomain` (default on) governs every
 * HTTP port, headers only when the request carries an Origin.
 */
import type { IncomingMessage } from 'node:http';

export function corsHeaders(req: IncomingMessage, enabled: boolean): Record<string, string> {
  if (!enabled || req.headers.origin === undefined) return {};
  return {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': '*',
    'Access-Control-Allow-Methods': '*',
    'Access-Control-Expose-Headers': '*',
    'Access-Control-Allow-Credentials': 'false',
    // The response header of Private Network Access (the browser sends Access-Control-Request-Private-Network).
    'Access-Control-Allow-Private-Network': 'true',
  };
}

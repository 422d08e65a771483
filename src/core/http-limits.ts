/**
 * Bounds every HTTP listener shares (HTTP server, API, HTTPS API, exporter),
 * so that a peer can neither send huge headers nor hold a connection open by
 * trickling them (issue 11).
 */
import type { ServerOptions } from 'node:http';

/** Node's own default, set on purpose: SRS's URLs and tokens are far below it. */
const MAX_HTTP_HEADER_BYTES = 16 * 1024;
/** The whole header block must arrive within this (the RTMP pre-auth deadline's twin). */
const HTTP_HEADERS_TIMEOUT_MS = 10_000;
/** A whole request (headers and body: an SDP offer, a JSON body) within this. */
const HTTP_REQUEST_TIMEOUT_MS = 30_000;

export const HTTP_SERVER_LIMITS: ServerOptions = {
  maxHeaderSize: MAX_HTTP_HEADER_BYTES,
  headersTimeout: HTTP_HEADERS_TIMEOUT_MS,
  requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
};

/** The raw answer to a request node could not parse: 431 for headers over the limit, else 400. */
export function clientErrorAnswer(err: Error): string {
  return (err as NodeJS.ErrnoException).code === 'HPE_HEADER_OVERFLOW'
    ? 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
    : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
}

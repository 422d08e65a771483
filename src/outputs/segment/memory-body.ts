/**
 * A response kept in memory for as long as the file it stands for lives (a
 * playlist until the next one, a recent segment, an LL-HLS part): one
 * Buffer and its headers computed once, sent with one writeHead and one
 * end(buf). Every player of a stream shares the same object, so a request
 * costs no fs call, no copy of the body and no header building.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { corsHeaders } from '../../core/http-cors.js';

export class MemoryBody {
  readonly headers: OutgoingHttpHeaders;
  /** The same with CORS (a request with an Origin while crossdomain is on), made on first use. */
  private withCors: OutgoingHttpHeaders | null = null;

  constructor(
    readonly data: Buffer,
    contentType: string,
    cacheControl: string,
  ) {
    this.headers = { 'Content-Type': contentType, 'Content-Length': data.length, 'Cache-Control': cacheControl };
  }

  /** The same bytes with another Cache-Control (a blocking playlist answer, say). */
  withCacheControl(cacheControl: string): MemoryBody {
    return new MemoryBody(this.data, String(this.headers['Content-Type']), cacheControl);
  }

  send(req: IncomingMessage, res: ServerResponse, crossdomain: boolean): void {
    let headers = this.headers;
    if (crossdomain && req.headers.origin !== undefined) headers = this.withCors ??= { ...corsHeaders(req, true), ...this.headers };
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else res.end(this.data);
  }
}

/**
 * SRS's forward backend (`forward.backend`, SRS-CONTRACTS §3.5): when a
 * stream is published, POST the `on_forward` body; the answer's `data.urls`
 * are the RTMP URLs to push to. The HTTP call itself (and SRS's accept rule
 * for callback answers) is the hooks' client, handed in by the composition
 * root as a `ForwardBackendCall`.
 */

/** What the backend is told about the publish. */
export interface ForwardBackendRequest {
  serverId: string;
  serviceId: string;
  clientId: string;
  ip: string;
  vhost: string;
  app: string;
  tcUrl: string;
  stream: string;
  param: string;
}

/**
 * POSTs `body` (JSON) to `url`; resolves with the answer's parsed JSON when it
 * passes SRS's callback rule (status 200/201, `code` 0), rejects otherwise.
 */
export type ForwardBackendCall = (url: string, body: string) => Promise<unknown>;

/** The body, keys in SRS's order (`action` first). */
export function onForwardBody(r: ForwardBackendRequest): string {
  return JSON.stringify({
    action: 'on_forward',
    server_id: r.serverId,
    service_id: r.serviceId,
    client_id: r.clientId,
    ip: r.ip,
    vhost: r.vhost,
    app: r.app,
    tcUrl: r.tcUrl,
    stream: r.stream,
    param: r.param,
  });
}

/** At most this many targets from one answer: a backend cannot make one stream open unbounded connections. */
const MAX_BACKEND_URLS = 32;

/** `data.urls` of an accepted answer: the non-empty strings; throws when the answer has no such array. */
export function backendUrls(answer: unknown): string[] {
  const data = typeof answer === 'object' && answer !== null ? (answer as { data?: unknown }).data : undefined;
  const urls = typeof data === 'object' && data !== null ? (data as { urls?: unknown }).urls : undefined;
  if (!Array.isArray(urls)) throw new Error('answer has no data.urls array');
  return urls.filter((u): u is string => typeof u === 'string' && u.trim() !== '').slice(0, MAX_BACKEND_URLS);
}

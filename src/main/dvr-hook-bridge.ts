/**
 * From a closed DVR file to the on_dvr callback's event. The publisher's
 * fields are those of when the recording started: the file of a session is
 * closed on unpublish, when the publisher is already gone.
 */
import type { DvrFileNotice } from '../outputs/dvr/dvr-feature.js';
import type { DvrHookEvent } from '../ops/hooks/http-hooks.js';

export function dvrHookEvent(n: DvrFileNotice): DvrHookEvent {
  const p = n.publisher;
  return { vhost: n.vhost, app: n.app, stream: n.stream, param: p.param, tcUrl: p.tcUrl, clientId: p.id, ip: p.ip, cwd: n.cwd, file: n.file };
}

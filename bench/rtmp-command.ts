/** RTMP command messages for the bench clients, built on the project's AMF0 and chunk writer. */
import { decodeAmf0, encodeAmf0, AmfError } from '../src/format/amf0.js';
import type { Amf0Object, Amf0Value } from '../src/format/amf0.js';
import { encodeRtmpMessage } from '../src/protocol/rtmp/chunk-writer.js';
import { BenchError } from './bench-error.js';

export interface ParsedCommand {
  name: string;
  transactionId: number;
  args: Amf0Value[];
}

export function encodeCommand(name: string, transactionId: number, streamId: number, args: Amf0Value[], chunkSize: number): Buffer {
  return encodeRtmpMessage(
    { type: 20, streamId, timestamp: 0, payload: encodeAmf0([name, transactionId, ...args]) },
    chunkSize,
    streamId === 0 ? 3 : 5,
  );
}

/** Decodes an AMF0 (type 20) or AMF3-wrapped (type 17) command payload. */
export function parseCommand(type: number, payload: Buffer): ParsedCommand {
  const p = type === 17 && payload.length > 0 && payload[0] === 0 ? payload.subarray(1) : payload;
  let v: Amf0Value[];
  try {
    v = decodeAmf0(p, 8);
  } catch (e) {
    if (e instanceof AmfError) throw new BenchError(`bad RTMP command: ${e.message}`);
    throw e;
  }
  if (typeof v[0] !== 'string') throw new BenchError('RTMP command without a name');
  return { name: v[0], transactionId: typeof v[1] === 'number' ? v[1] : 0, args: v.slice(2) };
}

/** The `code` of an onStatus info object, or ''. */
export function statusCode(cmd: ParsedCommand): string {
  const info = cmd.args[1];
  if (typeof info === 'object' && info !== null && !Array.isArray(info) && !(info instanceof Date)) {
    const code = (info as Amf0Object).code;
    return typeof code === 'string' ? code : '';
  }
  return '';
}

/** Splits rtmp://host[:port]/app[/more]/stream into its parts (app may contain slashes: all but the last segment). */
export function parseRtmpUrl(url: string): { host: string; port: number; app: string; stream: string; tcUrl: string } {
  const u = new URL(url);
  if (u.protocol !== 'rtmp:') throw new BenchError(`not an rtmp:// URL: ${url}`);
  const parts = u.pathname.replace(/^\//, '').split('/');
  if (parts.length < 2 || !parts[parts.length - 1]) throw new BenchError(`RTMP URL needs /app/stream: ${url}`);
  const stream = parts.pop() as string;
  const app = parts.join('/');
  const host = u.hostname;
  const port = u.port ? Number(u.port) : 1935;
  return { host, port, app, stream: stream + u.search, tcUrl: `rtmp://${host}:${port}/${app}` };
}

#!/usr/bin/env node
/**
 * sluice-ctl: the operator's terminal companion. It only speaks the HTTP API
 * (the contract), so it works against Sluice and SRS alike.
 *   sluice-ctl [--api URL] [--user U:P | --token T] streams | clients | kick ID | summary
 */
interface CtlArgs {
  api: string;
  auth: string | null;
  command: string;
  rest: string[];
}

const USAGE = `Usage: sluice-ctl [--api http://127.0.0.1:1985] [--user USER:PASS | --token TOKEN] COMMAND
  streams        the live streams: url, codecs, resolution, clients, kbit/s, publisher
  clients        the connected clients: id, type, ip, stream, age, kbit/s
  kick ID        disconnect a client (publisher or player) by id
  summary        server version, uptime, memory, CPU
Environment: SLUICE_API, SLUICE_TOKEN.`;

function parseArgs(argv: string[]): CtlArgs {
  let api = process.env['SLUICE_API'] ?? 'http://127.0.0.1:1985';
  let auth: string | null = process.env['SLUICE_TOKEN'] ? `Bearer ${process.env['SLUICE_TOKEN']}` : null;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--api') api = argv[++i] ?? api;
    else if (a === '--token') auth = `Bearer ${argv[++i] ?? ''}`;
    else if (a === '--user') auth = `Basic ${Buffer.from(argv[++i] ?? '').toString('base64')}`;
    else if (a === '-h' || a === '--help') positional.unshift('help');
    else positional.push(a);
  }
  return { api: api.replace(/\/+$/, ''), auth, command: positional[0] ?? 'help', rest: positional.slice(1) };
}

interface ApiReply {
  code: number;
  [key: string]: unknown;
}

async function call(args: CtlArgs, method: string, path: string): Promise<ApiReply> {
  const headers: Record<string, string> = {};
  if (args.auth) headers['Authorization'] = args.auth;
  const res = await fetch(`${args.api}${path}`, { method, headers, signal: AbortSignal.timeout(10_000) });
  if (res.status === 401 || res.status === 403) throw new Error(`the API refused the credentials (${res.status})`);
  const body = (await res.json()) as ApiReply;
  if (body.code !== 0) throw new Error(`the API answered code ${body.code}`);
  return body;
}

/** Prints rows as aligned columns. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

interface StreamRow {
  url: string;
  clients: number;
  kbps?: { recv_30s?: number; send_30s?: number };
  publish?: { active: boolean; cid?: string };
  video?: { codec: string; width?: number; height?: number } | null;
  audio?: { codec: string; sample_rate?: number } | null;
}

interface ClientRow {
  id: string;
  type: string;
  ip: string;
  url: string;
  alive: number;
  kbps?: { recv_30s?: number; send_30s?: number };
}

async function run(args: CtlArgs): Promise<string> {
  switch (args.command) {
    case 'streams': {
      const { streams } = (await call(args, 'GET', '/api/v1/streams/?count=1000')) as { streams?: StreamRow[] } & ApiReply;
      return table(
        ['URL', 'VIDEO', 'AUDIO', 'CLIENTS', 'IN kbit/s', 'OUT kbit/s', 'PUBLISHER'],
        (streams ?? []).map((s) => [
          s.url,
          s.video ? `${s.video.codec} ${s.video.width ?? '?'}x${s.video.height ?? '?'}` : '-',
          s.audio ? `${s.audio.codec} ${s.audio.sample_rate ?? ''}`.trim() : '-',
          String(s.clients),
          String(s.kbps?.recv_30s ?? 0),
          String(s.kbps?.send_30s ?? 0),
          s.publish?.active ? (s.publish.cid ?? 'yes') : '-',
        ]),
      );
    }
    case 'clients': {
      const { clients } = (await call(args, 'GET', '/api/v1/clients/?count=1000')) as { clients?: ClientRow[] } & ApiReply;
      return table(
        ['ID', 'TYPE', 'IP', 'STREAM', 'AGE s', 'IN kbit/s', 'OUT kbit/s'],
        (clients ?? []).map((c) => [c.id, c.type, c.ip, c.url, c.alive.toFixed(0), String(c.kbps?.recv_30s ?? 0), String(c.kbps?.send_30s ?? 0)]),
      );
    }
    case 'kick': {
      const id = args.rest[0];
      if (!id || !/^[0-9a-zA-Z_-]{1,64}$/.test(id)) throw new Error('kick needs a client id (see `clients`)');
      await call(args, 'DELETE', `/api/v1/clients/${id}`);
      return `kicked ${id}`;
    }
    case 'summary': {
      const { data } = (await call(args, 'GET', '/api/v1/summaries')) as { data: { self: Record<string, unknown>; sluice?: Record<string, unknown> } } & ApiReply;
      const s = data.self;
      // self.version is the SRS API level; Sluice's own version is beside it (SRS has none).
      const version = data.sluice?.['version'] !== undefined ? `Sluice ${String(data.sluice['version'])} (SRS API ${String(s['version'])})` : String(s['version']);
      // cpu_percent is a ratio in SRS's API (1.00 = one core).
      const cpu = typeof s['cpu_percent'] === 'number' ? (s['cpu_percent'] * 100).toFixed(1) : '?';
      return `version ${version}, pid ${String(s['pid'])}, up ${String(s['srs_uptime'])} s, memory ${String(s['mem_kbyte'])} KB, cpu ${cpu} %`;
    }
    default:
      return USAGE;
  }
}

run(parseArgs(process.argv.slice(2))).then(
  (out) => console.log(out),
  (err: unknown) => {
    console.error(`sluice-ctl: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

/**
 * The vhost, stream, client and summary objects of SRS's API (contract §2.3),
 * built from ServerStats. Field names, order and types as SRS's.
 */
import os from 'node:os';
import type { ServerContext } from '../core/server-context.js';
import type { ClientStat, ServerStats, StreamStat, VhostStat } from '../ops/stats/server-stats.js';
import { isPublishType } from '../ops/stats/server-stats.js';
import { streamUrl } from '../protocol/stream-url.js';
import { redactTokens } from '../log/clip.js';
import { VERSION } from '../version.js';
import { SRS_API_VERSION } from './srs-api-level.js';
import { Fixed2 } from './srs-json.js';
import type { RtcRelayCounts } from '../servers/webrtc/rtc-server.js';
import { directWriteMode, directWrites } from '../core/tcp-writer-addon.js';

type Json = Record<string, unknown>;

export function vhostObject(ctx: ServerContext, stats: ServerStats, v: VhostStat): Json {
  const cfg = ctx.config.getVhost(v.name);
  const hlsOn = cfg?.hls.enabled ?? false;
  return {
    id: v.id,
    name: v.name,
    enabled: cfg?.enabled ?? false,
    clients: stats.clientsOfVhost(v.name),
    streams: stats.streamsOf(v.name),
    send_bytes: v.sendBytes,
    recv_bytes: v.recvBytes,
    kbps: { recv_30s: v.recv.kbps(), send_30s: v.send.kbps() },
    hls: hlsOn ? { enabled: true, fragment: new Fixed2(cfg!.hls.fragment) } : { enabled: false },
  };
}

export function streamObject(stats: ServerStats, s: StreamStat): Json {
  const src = stats.source(s);
  const video = stats.video(src);
  const audio = stats.audio(src);
  const publisher = src?.publisher ?? null;
  return {
    id: s.id,
    name: s.stream,
    vhost: stats.vhostStat(s.vhost).id,
    app: s.app,
    // A JWT in a tcUrl or page URL is a credential: the API shows its first characters only (hooks get it whole, as SRS).
    tcUrl: redactTokens(s.tcUrl),
    url: streamUrl(s.vhost, s.app, s.stream),
    live_ms: Date.now(),
    clients: stats.clientsOf(s.key),
    frames: src?.videoFramesIn ?? 0,
    send_bytes: s.sendBytes,
    recv_bytes: s.recvBytes,
    kbps: { recv_30s: s.recv.kbps(), send_30s: s.send.kbps() },
    publish: publisher ? { active: true, cid: publisher.id } : { active: false },
    video: video ? { codec: video.codec, profile: video.profile, level: video.level, width: video.width, height: video.height } : null,
    audio: audio ? { codec: audio.codec, sample_rate: audio.sampleRate, channel: audio.channels, profile: audio.profile } : null,
  };
}

export function clientObject(stats: ServerStats, c: ClientStat): Json {
  const s = c.session;
  const st = c.streamKey ? stats.streams.get(c.streamKey) : undefined;
  const name = s.type === 'flv-play' ? `${s.stream}.flv` : s.stream;
  return {
    id: c.id,
    vhost: s.vhost ? stats.vhostStat(s.vhost).id : '',
    stream: st?.id ?? '',
    ip: s.ip,
    pageUrl: redactTokens(s.pageUrl),
    swfUrl: '',
    tcUrl: redactTokens(s.tcUrl),
    url: s.stream ? streamUrl(s.vhost, s.app, s.stream) : '',
    name,
    type: s.type,
    publish: isPublishType(s.type),
    alive: new Fixed2((Date.now() - s.createdAt) / 1000),
    send_bytes: c.lastOut,
    recv_bytes: c.lastIn,
    kbps: { recv_30s: c.recv.kbps(), send_30s: c.send.kbps() },
    // Sluice's addition for SRT sessions: the link as the connection sees it.
    ...(s.linkStats ? { link: s.linkStats() } : {}),
    // Sluice's addition for WHEP players: the simulcast layer and the bandwidth estimate behind an automatic choice.
    ...(s.layerInfo ? { rtc: { ...s.layerInfo() } } : {}),
  };
}

/**
 * SRS's summaries. Every `*_percent` is a ratio (1.00 = one core, all RAM, a
 * disk busy all the time), as SRS sends it; SRS's console multiplies by 100.
 */
/** `rtcRelayed`: the WebRTC gateway's relay (RtcServer.relayed): datagrams passed between --workers processes, the native relay's counts. */
export function summariesData(ctx: ServerContext, stats: ServerStats, startedAt: number, rtcRelayed: RtcRelayCounts): Json {
  const p = stats.proc;
  const rssKb = p.rssKb();
  const [l1, l5, l15] = os.loadavg();
  const cpus = os.cpus().length;
  return {
    ok: true,
    now_ms: Date.now(),
    self: {
      version: SRS_API_VERSION,
      pid: process.pid,
      ppid: process.ppid,
      argv: process.argv.join(' '),
      cwd: process.cwd(),
      mem_kbyte: rssKb,
      mem_percent: new Fixed2(p.mem.MemTotal > 0 ? rssKb / p.mem.MemTotal : 0),
      cpu_percent: new Fixed2(p.selfCpuPercent / 100),
      srs_uptime: Math.floor((Date.now() - startedAt) / 1000),
    },
    system: {
      cpu_percent: new Fixed2(p.systemCpuRatio),
      disk_read_KBps: p.disk.readKBps,
      disk_write_KBps: p.disk.writeKBps,
      disk_busy_percent: new Fixed2(p.disk.busy),
      mem_ram_kbyte: p.mem.MemTotal,
      mem_ram_percent: new Fixed2(p.mem.percent_ram),
      mem_swap_kbyte: p.mem.SwapTotal,
      mem_swap_percent: new Fixed2(p.mem.percent_swap),
      cpus,
      cpus_online: cpus,
      uptime: new Fixed2(p.uptime?.uptime ?? os.uptime()),
      ilde_time: new Fixed2(p.uptime?.idle ?? 0),
      load_1m: new Fixed2(l1 ?? 0),
      load_5m: new Fixed2(l5 ?? 0),
      load_15m: new Fixed2(l15 ?? 0),
      net_sample_time: p.net.sampleTime,
      net_recv_bytes: p.net.recvBytes,
      net_send_bytes: p.net.sendBytes,
      net_recvi_bytes: p.net.recviBytes,
      net_sendi_bytes: p.net.sendiBytes,
      srs_sample_time: p.sampleTime,
      srs_recv_bytes: stats.totals.recvBytes,
      srs_send_bytes: stats.totals.sendBytes,
      conn_sys: p.sockets.sys,
      conn_sys_et: p.sockets.established,
      conn_sys_tw: p.sockets.timeWait,
      conn_sys_udp: p.sockets.udp,
      conn_srs: ctx.limit.current,
    },
    // Sluice additions (SRS clients ignore unknown keys).
    sluice: {
      version: VERSION,
      streams: stats.streams.size,
      clients: ctx.clients.size,
      recv_kbps: stats.totals.recv.kbps(),
      send_kbps: stats.totals.send.kbps(),
      frames_dropped: stats.framesDropped,
      // This worker's gateway: datagrams read here for a session of another worker, and the other way.
      rtc_relayed_out: rtcRelayed.out,
      rtc_relayed_in: rtcRelayed.in,
      // Which relay holds the WebRTC port (native thread, dgram, null) and the media the native one moved itself.
      rtc_udp_relay: rtcRelayed.kind,
      rtc_native_out: rtcRelayed.nativeOut,
      rtc_native_direct: rtcRelayed.nativeDirect,
      rtc_native_in: rtcRelayed.nativeIn,
      rtc_native_dropped: rtcRelayed.nativeDropped,
      // How stream bytes reach TCP players (native: one sendmsg when Node has nothing queued) and how many writes went that way.
      stream_writes: directWriteMode(),
      stream_direct_writes: directWrites.count,
    },
  };
}

export function rusagesData(): Json {
  const r = process.resourceUsage();
  return {
    ok: true,
    sample_time: Date.now(),
    ru_utime: Math.floor(r.userCPUTime / 1e6),
    ru_stime: Math.floor(r.systemCPUTime / 1e6),
    ru_maxrss: r.maxRSS,
    ru_ixrss: r.sharedMemorySize,
    ru_idrss: r.unsharedDataSize,
    ru_isrss: r.unsharedStackSize,
    ru_minflt: r.minorPageFault,
    ru_majflt: r.majorPageFault,
    ru_nswap: r.swappedOut,
    ru_inblock: r.fsRead,
    ru_oublock: r.fsWrite,
    ru_msgsnd: r.ipcSent,
    ru_msgrcv: r.ipcReceived,
    ru_nsignals: r.signalsCount,
    ru_nvcsw: r.voluntaryContextSwitches,
    ru_nivcsw: r.involuntaryContextSwitches,
  };
}

export function selfProcData(stats: ServerStats): Json {
  const p = stats.proc;
  return { ok: p.selfStat !== null, sample_time: p.sampleTime, percent: new Fixed2(p.selfCpuPercent / 100), ...(p.selfStat ?? {}) };
}

export function systemProcData(stats: ServerStats): Json {
  const p = stats.proc;
  return { ok: p.cpu !== null, sample_time: p.sampleTime, percent: new Fixed2(p.systemCpuRatio), ...(p.cpu ?? {}) };
}

export function meminfoData(stats: ServerStats): Json {
  const m = stats.proc.mem;
  return {
    ok: m.ok,
    sample_time: stats.proc.sampleTime,
    percent_ram: new Fixed2(m.percent_ram),
    percent_swap: new Fixed2(m.percent_swap),
    MemActive: m.MemActive,
    RealInUse: m.RealInUse,
    NotInUse: m.NotInUse,
    MemTotal: m.MemTotal,
    MemFree: m.MemFree,
    Buffers: m.Buffers,
    Cached: m.Cached,
    SwapTotal: m.SwapTotal,
    SwapFree: m.SwapFree,
  };
}

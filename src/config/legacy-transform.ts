// Legacy directives auto-converted at load (contract §4.5), so old SRS configs keep
// working and every later step only sees the current layout. Like SRS, a converted
// value overwrites a same-named directive already present in the target block.

import { cloneDirective, findChild, type ConfigDirective } from './parser.js';

export interface TransformResult {
  root: ConfigDirective;
  /** `file:line: message` lines describing each conversion. */
  warnings: string[];
}

const PLAY_KEYS = new Set([
  'time_jitter',
  'mix_correct',
  'atc',
  'atc_auto',
  'mw_latency',
  'gop_cache',
  'gop_cache_max_frames',
  'queue_length',
  'send_min_interval',
  'reduce_sequence_header',
]);
const CLUSTER_KEYS = new Set(['mode', 'origin', 'token_traverse', 'vhost', 'debug_srs_upnode']);
const GB_CASTER_LEFTOVERS = new Set([
  'tcp_enable',
  'rtp_port_min',
  'rtp_port_max',
  'wait_keyframe',
  'rtp_idle_timeout',
  'audio_enable',
  'auto_create_channel',
  'jitterbuffer_enable',
]);
const GB_SIP_LEFTOVERS = new Set([
  'serial',
  'realm',
  'ack_timeout',
  'keepalive_timeout',
  'invite_port_fixed',
  'query_catalog_interval',
  'auto_play',
]);

function getOrCreate(parent: ConfigDirective, name: string, ref: ConfigDirective): ConfigDirective {
  const found = findChild(parent, name);
  if (found !== undefined) return found;
  const created: ConfigDirective = { name, args: [], children: [], file: ref.file, line: ref.line };
  parent.children.push(created);
  return created;
}

function setChild(parent: ConfigDirective, name: string, args: string[], ref: ConfigDirective): void {
  getOrCreate(parent, name, ref).args = [...args];
}

function where(d: ConfigDirective): string {
  return `${d.file}:${d.line}`;
}

function isLegacyVhostDirective(d: ConfigDirective): boolean {
  const n = d.name;
  return (
    ((n === 'refer' || n === 'forward') && d.children.length === 0) ||
    n === 'refer_play' ||
    n === 'refer_publish' ||
    n === 'mr' ||
    n === 'publish_1stpkt_timeout' ||
    n === 'publish_normal_timeout' ||
    PLAY_KEYS.has(n) ||
    CLUSTER_KEYS.has(n) ||
    n === 'nack' ||
    n === 'twcc'
  );
}

function transformVhost(vhost: ConfigDirective, warn: (d: ConfigDirective, m: string) => void): void {
  // Pull the legacy directives out first, so a target block written later in the
  // vhost is found (and reused) by getOrCreate instead of being shadowed.
  const legacy: ConfigDirective[] = [];
  vhost.children = vhost.children.filter((d) => {
    if (d.name === 'http') {
      d.name = 'http_static';
      warn(d, 'legacy "http" renamed to "http_static"');
      return true;
    }
    if (!isLegacyVhostDirective(d)) return true;
    legacy.push(d);
    return false;
  });
  for (const d of legacy) {
    const n = d.name;
    if ((n === 'refer' && d.children.length === 0) || n === 'refer_play' || n === 'refer_publish') {
      const refer = getOrCreate(vhost, 'refer', d);
      setChild(refer, 'enabled', ['on'], d);
      const key = n === 'refer' ? 'all' : n === 'refer_play' ? 'play' : 'publish';
      setChild(refer, key, d.args, d);
      warn(d, `legacy "${n}" converted to "refer { ${key} }"`);
    } else if (n === 'mr') {
      const publish = getOrCreate(vhost, 'publish', d);
      const enabled = findChild(d, 'enabled');
      const latency = findChild(d, 'latency');
      if (enabled !== undefined) setChild(publish, 'mr', enabled.args, enabled);
      if (latency !== undefined) setChild(publish, 'mr_latency', latency.args, latency);
      warn(d, 'legacy "mr" converted to "publish { mr; mr_latency }"');
    } else if (n === 'publish_1stpkt_timeout' || n === 'publish_normal_timeout') {
      const key = n === 'publish_1stpkt_timeout' ? 'firstpkt_timeout' : 'normal_timeout';
      setChild(getOrCreate(vhost, 'publish', d), key, d.args, d);
      warn(d, `legacy "${n}" moved to "publish { ${key} }"`);
    } else if (PLAY_KEYS.has(n)) {
      setChild(getOrCreate(vhost, 'play', d), n, d.args, d);
      warn(d, `legacy vhost-level "${n}" moved into "play {}"`);
    } else if (n === 'forward' && d.children.length === 0) {
      const forward = getOrCreate(vhost, 'forward', d);
      setChild(forward, 'enabled', ['on'], d);
      setChild(forward, 'destination', d.args, d);
      warn(d, 'legacy flat "forward" converted to "forward { enabled on; destination }"');
    } else if (CLUSTER_KEYS.has(n)) {
      setChild(getOrCreate(vhost, 'cluster', d), n, d.args, d);
      warn(d, `legacy vhost-level "${n}" moved into "cluster {}"`);
    } else if (n === 'nack') {
      const rtc = getOrCreate(vhost, 'rtc', d);
      const enabled = findChild(d, 'enabled');
      const noCopy = findChild(d, 'no_copy');
      if (enabled !== undefined) setChild(rtc, 'nack', enabled.args, enabled);
      if (noCopy !== undefined) setChild(rtc, 'nack_no_copy', noCopy.args, noCopy);
      warn(d, 'legacy "nack" converted to "rtc { nack; nack_no_copy }"');
    } else if (n === 'twcc') {
      const rtc = getOrCreate(vhost, 'rtc', d);
      const enabled = findChild(d, 'enabled');
      if (enabled !== undefined) setChild(rtc, 'twcc', enabled.args, enabled);
      warn(d, 'legacy "twcc" converted to "rtc { twcc }"');
    }
  }

  for (const d of vhost.children) {
    if (d.name === 'rtc') transformVhostRtc(d, warn);
    else if (d.name === 'http_remux') {
      d.children = d.children.filter((c) => {
        if (c.name !== 'hstrs') return true;
        warn(c, 'legacy "http_remux.hstrs" dropped');
        return false;
      });
    } else if (d.name === 'hls') {
      for (const c of d.children) {
        if (c.name === 'hls_storage' || c.name === 'hls_mount') {
          warn(c, `"hls.${c.name}" is accepted but ignored (HLS in RAM was removed)`);
        }
      }
    }
  }
}

function transformVhostRtc(rtc: ConfigDirective, warn: (d: ConfigDirective, m: string) => void): void {
  const legacy = rtc.children.filter((c) => c.name === 'aac' || c.name === 'bframe');
  rtc.children = rtc.children.filter((c) => c.name !== 'aac' && c.name !== 'bframe');
  for (const c of legacy) {
    if (c.name === 'aac') {
      setChild(rtc, 'rtmp_to_rtc', [c.args[0] === 'transcode' ? 'on' : 'off'], c);
      warn(c, 'legacy "rtc.aac" converted to "rtc.rtmp_to_rtc"');
    } else if (c.name === 'bframe') {
      setChild(rtc, 'keep_bframe', [c.args[0] === 'keep' ? 'on' : 'off'], c);
      warn(c, 'legacy "rtc.bframe" converted to "rtc.keep_bframe"');
    }
  }
}

function transformStreamCaster(caster: ConfigDirective, warn: (d: ConfigDirective, m: string) => void): void {
  const hosts = caster.children.filter((c) => c.name === 'host');
  caster.children = caster.children.filter((c) => {
    if (!GB_CASTER_LEFTOVERS.has(c.name)) return c.name !== 'host';
    warn(c, `legacy "stream_caster.${c.name}" dropped`);
    return false;
  });
  for (const c of hosts) {
    setChild(getOrCreate(caster, 'sip', c), 'candidate', c.args, c);
    warn(c, 'legacy "stream_caster.host" converted to "sip.candidate"');
  }
  const sip = findChild(caster, 'sip');
  if (sip !== undefined) {
    sip.children = sip.children.filter((c) => {
      if (!GB_SIP_LEFTOVERS.has(c.name)) return true;
      warn(c, `legacy "stream_caster.sip.${c.name}" dropped`);
      return false;
    });
  }
}

/**
 * SRS 7 writes the RTMP ports as `rtmp { listen ...; chunk_size ...; }` (its own
 * samples have no root `listen` then; SRS 7 reads only the block); every later
 * step reads the root directives, so the block's values are moved there. Not
 * legacy, so no warning unless both forms are set.
 */
function liftRtmpListen(root: ConfigDirective, warn: (d: ConfigDirective, m: string) => void): void {
  const rtmp = findChild(root, 'rtmp');
  if (rtmp === undefined) return;
  for (const name of ['listen', 'chunk_size']) {
    const inner = findChild(rtmp, name);
    if (inner === undefined) continue;
    const outer = findChild(root, name);
    if (outer !== undefined) {
      warn(outer, `"${name}" ignored: "rtmp.${name}" (${inner.file}:${inner.line}) is used`);
      outer.args = [...inner.args];
      outer.file = inner.file;
      outer.line = inner.line;
    } else {
      root.children.unshift({ name, args: [...inner.args], children: [], file: inner.file, line: inner.line });
    }
    rtmp.children = rtmp.children.filter((c) => c !== inner);
  }
}

/** Returns a converted copy of the tree; the input is not modified. */
export function transformLegacy(input: ConfigDirective): TransformResult {
  const root = cloneDirective(input);
  const warnings: string[] = [];
  const warn = (d: ConfigDirective, m: string): void => {
    warnings.push(`${where(d)}: ${m}`);
  };

  liftRtmpListen(root, warn);
  for (const d of root.children) {
    if (d.name === 'http_stream') {
      d.name = 'http_server';
      warn(d, 'legacy "http_stream" renamed to "http_server"');
    } else if (d.name === 'srt_server') {
      for (const c of d.children) {
        if (c.name === 'tlpkdrop') {
          c.name = 'tlpktdrop';
          warn(c, 'legacy "srt_server.tlpkdrop" renamed to "tlpktdrop"');
        }
      }
    } else if (d.name === 'rtc_server') {
      d.children = d.children.filter((c) => {
        if (c.name !== 'perf_stat' && c.name !== 'queue_length') return true;
        warn(c, `legacy "rtc_server.${c.name}" dropped`);
        return false;
      });
    } else if (d.name === 'stream_caster') {
      transformStreamCaster(d, warn);
    } else if (d.name === 'vhost') {
      transformVhost(d, warn);
    }
  }
  return { root, warnings };
}

/**
 * Headless Chromium as a real WebRTC peer for the rtc/whip/whep tests:
 * fake camera and microphone, WHIP publish and WHEP play written the way a
 * web page would, and getStats() readings.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** A page on the API server's origin (a secure context on 127.0.0.1, and same-origin fetches). */
export async function openPage(browser: Browser, apiBase: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${apiBase}/api/v1/versions`);
  return page;
}

export interface PeerOptions {
  /**
   * Send the offer without the browser's own candidates, so that the server
   * (full ICE) cannot reach the browser directly and learns its address only
   * from the browser's checks (peer-reflexive): the path under test is then
   * the only one.
   */
  stripOfferCandidates?: boolean;
  /** Publish the fake camera at 1280x720 as three simulcast layers: rid h (full), m (1/2), l (1/4). */
  simulcast?: boolean;
}

/** Publishes the fake camera + microphone by WHIP; resolves with the Location header. */
export async function whipPublish(page: Page, url: string, opts: PeerOptions = {}): Promise<string> {
  return page.evaluate(async ([u, strip, simulcast]) => {
    const s = await navigator.mediaDevices.getUserMedia({ video: simulcast ? { width: 1280, height: 720 } : { width: 640, height: 360 }, audio: true });
    const pc = new RTCPeerConnection();
    const layers = [{ rid: 'h' }, { rid: 'm', scaleResolutionDownBy: 2 }, { rid: 'l', scaleResolutionDownBy: 4 }];
    for (const t of s.getTracks()) {
      const tr = pc.addTransceiver(t, { direction: 'sendonly', ...(simulcast && t.kind === 'video' ? { sendEncodings: layers } : {}) });
      if (simulcast && t.kind === 'video') {
        // A busy machine makes Chromium scale every layer down (CPU adaptation): the test checks sizes, so keep them.
        const p = tr.sender.getParameters() as RTCRtpSendParameters & { degradationPreference?: string };
        p.degradationPreference = 'maintain-resolution';
        await tr.sender.setParameters(p);
      }
    }
    await pc.setLocalDescription(await pc.createOffer());
    let offer = pc.localDescription!.sdp;
    if (strip) offer = offer.split('\r\n').filter((l) => !l.startsWith('a=candidate:')).join('\r\n');
    const r = await fetch(u, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer });
    if (r.status !== 201) throw new Error(`WHIP answered ${r.status}: ${await r.text()}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: await r.text() });
    (window as unknown as { pubPc: RTCPeerConnection }).pubPc = pc;
    return r.headers.get('Location') ?? '';
  }, [url, opts.stripOfferCandidates === true, opts.simulcast === true] as const);
}

/** What the publisher's page sends per simulcast layer (outbound-rtp by rid). */
export async function layerStats(page: Page): Promise<{ rid: string; packetsSent: number; frameWidth: number; frameHeight: number; limitation: string }[]> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { pubPc: RTCPeerConnection }).pubPc;
    const out: { rid: string; packetsSent: number; frameWidth: number; frameHeight: number; limitation: string }[] = [];
    (await pc.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') out.push({ rid: String(s.rid ?? ''), packetsSent: Number(s.packetsSent ?? 0), frameWidth: Number(s.frameWidth ?? 0), frameHeight: Number(s.frameHeight ?? 0), limitation: String(s.qualityLimitationReason ?? '') });
    });
    return out.sort((a, b) => a.rid.localeCompare(b.rid));
  });
}

/** Plays by WHEP into a <video> element; resolves with the Location header. */
export async function whepPlay(page: Page, url: string, opts: PeerOptions = {}): Promise<string> {
  return page.evaluate(async ([u, strip]) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const v = document.createElement('video');
    v.muted = false;
    v.autoplay = true;
    document.body.appendChild(v);
    const ms = new MediaStream();
    const w = window as unknown as { peak: number };
    w.peak = 0;
    pc.ontrack = (e) => {
      ms.addTrack(e.track);
      if (e.track.kind === 'audio') {
        // Web Audio pulls the decoded audio even without a sound card, and measures it.
        const ac = new AudioContext();
        const an = ac.createAnalyser();
        ac.createMediaStreamSource(new MediaStream([e.track])).connect(an);
        const buf = new Float32Array(an.fftSize);
        setInterval(() => {
          an.getFloatTimeDomainData(buf);
          for (const x of buf) w.peak = Math.max(w.peak, Math.abs(x));
        }, 50);
        void ac.resume();
      }
      v.srcObject = ms;
      void v.play().catch(() => undefined);
    };
    await pc.setLocalDescription(await pc.createOffer());
    let offer = pc.localDescription!.sdp;
    if (strip) offer = offer.split('\r\n').filter((l) => !l.startsWith('a=candidate:')).join('\r\n');
    const r = await fetch(u, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer });
    if (r.status !== 201) throw new Error(`WHEP answered ${r.status}: ${await r.text()}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: await r.text() });
    (window as unknown as { playPc: RTCPeerConnection }).playPc = pc;
    return r.headers.get('Location') ?? '';
  }, [url, opts.stripOfferCandidates === true] as const);
}

export interface PlayStats {
  state: string;
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
  videoCodec: string;
  audioCodec: string;
  audioPackets: number;
  totalAudioEnergy: number;
  audioLevel: number;
  keyFramesDecoded: number;
  /** Highest sample magnitude Web Audio saw in the received audio (0..1). */
  peak: number;
}

export async function playStats(page: Page): Promise<PlayStats> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { playPc: RTCPeerConnection }).playPc;
    const out = { state: pc.connectionState, framesDecoded: 0, frameWidth: 0, frameHeight: 0, videoCodec: '', audioCodec: '', audioPackets: 0, totalAudioEnergy: 0, audioLevel: 0, keyFramesDecoded: 0, peak: (window as unknown as { peak: number }).peak };
    const stats = await pc.getStats();
    const codecs = new Map<string, string>();
    stats.forEach((s: Record<string, unknown>) => {
      if (s.type === 'codec') codecs.set(s.id as string, s.mimeType as string);
    });
    stats.forEach((s: Record<string, unknown>) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') {
        out.framesDecoded = (s.framesDecoded as number) ?? 0;
        out.frameWidth = (s.frameWidth as number) ?? 0;
        out.frameHeight = (s.frameHeight as number) ?? 0;
        out.keyFramesDecoded = (s.keyFramesDecoded as number) ?? 0;
        out.videoCodec = codecs.get(s.codecId as string) ?? '';
      } else if (s.kind === 'audio') {
        out.audioPackets = (s.packetsReceived as number) ?? 0;
        out.totalAudioEnergy = (s.totalAudioEnergy as number) ?? 0;
        out.audioLevel = (s.audioLevel as number) ?? 0;
        out.audioCodec = codecs.get(s.codecId as string) ?? '';
      }
    });
    return out;
  });
}

export async function publishStats(page: Page): Promise<{ state: string; framesEncoded: number; pliCount: number; nackCount: number; audioPackets: number }> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { pubPc: RTCPeerConnection }).pubPc;
    const out = { state: pc.connectionState, framesEncoded: 0, pliCount: 0, nackCount: 0, audioPackets: 0 };
    (await pc.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type !== 'outbound-rtp') return;
      if (s.kind === 'video') {
        out.framesEncoded = (s.framesEncoded as number) ?? 0;
        out.pliCount = (s.pliCount as number) ?? 0;
        out.nackCount = (s.nackCount as number) ?? 0;
      } else out.audioPackets = (s.packetsSent as number) ?? 0;
    });
    return out;
  });
}

export interface SelectedPair {
  state: string;
  localProtocol: string;
  localTcpType: string;
  remoteAddress: string;
  remotePort: number;
  remoteProtocol: string;
}

/** The ICE candidate pair the browser's peer (`pubPc` or `playPc`) uses now. */
export async function selectedPair(page: Page, which: 'pubPc' | 'playPc'): Promise<SelectedPair | null> {
  return page.evaluate(async (w) => {
    const pc = (window as unknown as Record<string, RTCPeerConnection>)[w]!;
    const stats = await pc.getStats();
    const byId = new Map<string, Record<string, unknown>>();
    stats.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s));
    let pairId = '';
    stats.forEach((s: Record<string, unknown>) => {
      if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pairId = s.selectedCandidatePairId;
    });
    const pair = byId.get(pairId);
    if (!pair) return null;
    const l = byId.get(pair.localCandidateId as string) ?? {};
    const r = byId.get(pair.remoteCandidateId as string) ?? {};
    return {
      state: String(pair.state),
      localProtocol: String(l.protocol ?? ''),
      localTcpType: String(l.tcpType ?? ''),
      remoteAddress: String(r.address ?? r.ip ?? ''),
      remotePort: Number(r.port ?? 0),
      remoteProtocol: String(r.protocol ?? ''),
    };
  }, which);
}

/** Polls `read` until `ok` holds or the time runs out; returns the last reading. */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, stepMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await read();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, stepMs));
    v = await read();
  }
  return v;
}

/** The WebRTC UDP port as a `startServer` placeholder: the server gets a fresh one (`server.port('RTC')`). */
export const RTC_PORT = '{{RTC}}';

export function rtcConfig(rtcPort: number | typeof RTC_PORT, vhostRtc = 'rtc { enabled on; rtmp_to_rtc on; rtc_to_rtmp on; }', extra = ''): string {
  return `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
rtc_server { enabled on; listen ${rtcPort}; candidate 127.0.0.1; ${extra} }
vhost __defaultVhost__ {
  ${vhostRtc}
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  play { gop_cache on; }
}
`;
}

/** An edge pulling from the origin's RTMP port and serving its streams over WHEP; `rtcExtra` goes into rtc_server, `extra` at the top level. */
export function rtcEdgeConfig(originPort: number, rtcExtra = '', extra = ''): string {
  return `
listen {{RTMP}};
srs_log_tank console;
${extra}
http_api { enabled on; listen {{API}}; }
rtc_server { enabled on; listen ${RTC_PORT}; candidate 127.0.0.1; ${rtcExtra} }
vhost __defaultVhost__ {
  cluster { mode remote; origin 127.0.0.1:${originPort}; }
  rtc { enabled on; rtmp_to_rtc on; }
  play { gop_cache on; }
}
`;
}

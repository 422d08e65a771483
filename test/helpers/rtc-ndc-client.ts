/**
 * WHEP players and a WHIP publisher made with node-datachannel (no browser):
 * used to check the one-port operation with many peers, for memory and soak
 * runs, and as load in the benchmark.
 */
import ndc from 'node-datachannel';
import type { PeerConnection, Track } from 'node-datachannel';

export interface NdcPlayer {
  pc: PeerConnection;
  /** Held so that the tracks (and their callbacks) are not garbage-collected. */
  tracks: Track[];
  video: { packets: number; bytes: number };
  audio: { packets: number; bytes: number };
  close(): void;
  /** The session URL from the answer's Location header (DELETE ends the session). */
  location: string | null;
}

/**
 * libdatachannel as a client now and then drops its ICE transport before the
 * answer is applied when many peers start in one process ("remote candidate
 * without ICE transport"): that is a client-side hiccup, so try again (a few times, with a pause).
 */
export async function ndcWhep(url: string, headers: Record<string, string> = {}, sdp: SdpRewrite = {}): Promise<NdcPlayer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ndcWhepOnce(url, headers, sdp);
    } catch (err) {
      const limited = err instanceof RateLimited;
      if (attempt >= (limited ? 30 : 4) || !(limited || /without ICE transport/.test((err as Error).message))) throw err;
      // A well-behaved client waits as long as the server's Retry-After asks (offers are rate-limited per IP).
      await new Promise((r) => setTimeout(r, limited ? err.retryAfterMs : 200 * attempt));
    }
  }
}

/** Edits of the offer as sent and of the answer as applied (a test putting a relay in the path, or forcing a DTLS role). */
export interface SdpRewrite {
  offer?: (sdp: string) => string;
  answer?: (sdp: string) => string;
}

/** The server's 429: the offer may be sent again after retryAfterMs. */
class RateLimited extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`WHEP answered 429 (retry after ${retryAfterMs} ms)`);
  }
}

/** The peer's complete offer (all candidates gathered). */
export function localOffer(pc: PeerConnection): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no local offer')), 5000);
    pc.onGatheringStateChange((s) => {
      if (s === 'complete') {
        clearTimeout(t);
        setImmediate(() => resolve(pc.localDescription()!.sdp));
      }
    });
    pc.setLocalDescription();
  });
}

async function ndcWhepOnce(url: string, headers: Record<string, string>, sdp: SdpRewrite): Promise<NdcPlayer> {
  const pc = new ndc.PeerConnection('load', { iceServers: [] });
  const v = new ndc.Video('0', 'RecvOnly');
  v.addH264Codec(102, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f');
  const a = new ndc.Audio('1', 'RecvOnly');
  a.addOpusCodec(111);
  const vt = pc.addTrack(v);
  const at = pc.addTrack(a);
  const p: NdcPlayer = { pc, tracks: [vt, at], video: { packets: 0, bytes: 0 }, audio: { packets: 0, bytes: 0 }, close: () => pc.close(), location: null };
  const count = (c: { packets: number; bytes: number }) => (m: Buffer): void => {
    if (m.length > 1 && (m[1]! < 192 || m[1]! > 223)) {
      c.packets++;
      c.bytes += m.length;
    }
  };
  vt.onMessage(count(p.video));
  at.onMessage(count(p.audio));
  const offer = await localOffer(pc);
  const r = await fetch(url, { method: 'POST', body: sdp.offer ? sdp.offer(offer) : offer, headers });
  if (r.status === 429) {
    pc.close();
    throw new RateLimited(Number(r.headers.get('retry-after') ?? 1) * 1000);
  }
  if (r.status !== 201) {
    pc.close();
    throw new Error(`WHEP answered ${r.status}: ${await r.text()}`);
  }
  p.location = r.headers.get('location');
  try {
    const answer = await r.text();
    pc.setRemoteDescription(sdp.answer ? sdp.answer(answer) : answer, 'answer');
  } catch (err) {
    pc.close();
    throw err;
  }
  return p;
}

export interface WhipPublisher {
  close(): void;
  location: string | null;
}

/** A WHIP publisher sending H.264-shaped RTP (single-NAL packets; type 5 every 50 frames) and nothing else. */
export async function ndcWhip(url: string): Promise<WhipPublisher> {
  const pc = new ndc.PeerConnection('soak-pub', { iceServers: [] });
  const v = new ndc.Video('0', 'SendOnly');
  v.addH264Codec(102, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f');
  const ssrc = 0x1234567;
  v.addSSRC(ssrc, 'soak', 'soak', 'soak-video');
  const track = pc.addTrack(v);
  const r = await fetch(url, { method: 'POST', body: await localOffer(pc) });
  if (r.status !== 201) {
    pc.close();
    throw new Error(`WHIP answered ${r.status}: ${await r.text()}`);
  }
  const location = r.headers.get('location');
  pc.setRemoteDescription(await r.text(), 'answer');
  let seq = 0;
  let frame = 0;
  const timer = setInterval(() => {
    if (!track.isOpen()) return;
    const ts = (frame * 3600) >>> 0;
    for (let i = 0; i < 4; i++) {
      const b = Buffer.alloc(1212, 0x5a);
      b[0] = 0x80;
      b[1] = (i === 3 ? 0x80 : 0) | 102;
      b.writeUInt16BE(seq++ & 0xffff, 2);
      b.writeUInt32BE(ts, 4);
      b.writeUInt32BE(ssrc, 8);
      b[12] = frame % 50 === 0 ? 0x65 : 0x41; // IDR slice every 2 s, else a P slice
      track.sendMessageBinary(b);
    }
    frame++;
  }, 40);
  return {
    location,
    close: () => {
      clearInterval(timer);
      pc.close();
    },
  };
}

/**
 * A WHEP player made with node-datachannel (no browser): used to check the
 * one-port operation with many peers and as load in the benchmark.
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
}

/**
 * libdatachannel as a client now and then drops its ICE transport before the
 * answer is applied when many peers start in one process ("remote candidate
 * without ICE transport"): that is a client-side hiccup, so try again (a few times, with a pause).
 */
export async function ndcWhep(url: string): Promise<NdcPlayer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ndcWhepOnce(url);
    } catch (err) {
      if (attempt >= 4 || !/without ICE transport/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

async function ndcWhepOnce(url: string): Promise<NdcPlayer> {
  const pc = new ndc.PeerConnection('load', { iceServers: [] });
  const v = new ndc.Video('0', 'RecvOnly');
  v.addH264Codec(102, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f');
  const a = new ndc.Audio('1', 'RecvOnly');
  a.addOpusCodec(111);
  const vt = pc.addTrack(v);
  const at = pc.addTrack(a);
  const p: NdcPlayer = { pc, tracks: [vt, at], video: { packets: 0, bytes: 0 }, audio: { packets: 0, bytes: 0 }, close: () => pc.close() };
  const count = (c: { packets: number; bytes: number }) => (m: Buffer): void => {
    if (m.length > 1 && (m[1]! < 192 || m[1]! > 223)) {
      c.packets++;
      c.bytes += m.length;
    }
  };
  vt.onMessage(count(p.video));
  at.onMessage(count(p.audio));
  const offer = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no local offer')), 5000);
    pc.onGatheringStateChange((s) => {
      if (s === 'complete') {
        clearTimeout(t);
        setImmediate(() => resolve(pc.localDescription()!.sdp));
      }
    });
    pc.setLocalDescription();
  });
  const r = await fetch(url, { method: 'POST', body: offer });
  if (r.status !== 201) throw new Error(`WHEP answered ${r.status}: ${await r.text()}`);
  try {
    pc.setRemoteDescription(await r.text(), 'answer');
  } catch (err) {
    pc.close();
    throw err;
  }
  return p;
}

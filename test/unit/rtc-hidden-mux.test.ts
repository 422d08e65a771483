/**
 * libjuice behind the UDP gateway stays hidden (the cause of rtc-one-port's
 * `38007 !== 40693`): it must not send its own checks to the addresses in
 * the client's offer (the client then sees libjuice's internal loopback port
 * as a peer-reflexive server candidate and may nominate it, bypassing the
 * gateway), and that port must appear nowhere in the answer (m= line, c=,
 * candidates). A real libdatachannel peer answers a real libdatachannel
 * offer whose candidate points at a plain socket that counts what arrives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import ndc from 'node-datachannel';
import { negotiate } from '../../src/servers/webrtc/rtc-peer.js';
import { freeLoopbackUdpPort } from '../../src/servers/webrtc/loopback-port.js';
import { looksLikeStun } from '../../src/protocol/stun/stun-message.js';
import { localOffer } from '../helpers/rtc-ndc-client.js';

const PUBLIC = { ip: '203.0.113.5', port: 8000 };

async function clientOffer(candidatePort: number): Promise<{ offer: string; close(): void }> {
  const pc = new ndc.PeerConnection('hidden-mux-client', { iceServers: [] });
  const v = new ndc.Video('0', 'RecvOnly');
  v.addH264Codec(102, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f');
  const track = pc.addTrack(v);
  const raw = await localOffer(pc);
  const offer = raw
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:'))
    .map((l) => (l === 'a=end-of-candidates' ? `a=candidate:1 1 UDP 2122260223 127.0.0.1 ${candidatePort} typ host\r\na=end-of-candidates` : l))
    .join('\r\n');
  return {
    offer,
    close: () => {
      track.close();
      pc.close();
    },
  };
}

for (const candidates of [[`candidate:1 1 udp 2130706431 ${PUBLIC.ip} ${PUBLIC.port} typ host generation 0`], []]) {
  test(`behind the gateway libjuice never checks the offer's candidates, and its port is not in the answer (${candidates.length} configured candidates)`, { timeout: 20_000 }, async () => {
    const juicePort = await freeLoopbackUdpPort();
    const mux = new ndc.IceUdpMuxListener(juicePort, '127.0.0.1');
    const client = dgram.createSocket('udp4');
    const stun: number[] = [];
    client.on('message', (msg, r) => {
      if (looksLikeStun(msg)) stun.push(r.port);
    });
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    const c = await clientOffer((client.address() as AddressInfo).port);
    const neg = await negotiate({ name: 'hidden', offer: c.offer, role: 'play', transport: { udpPort: juicePort, bindAddress: '127.0.0.1', candidates } });
    try {
      const lines = neg.answer.split('\r\n');
      assert.ok(!neg.answer.includes(String(juicePort)), `libjuice's port ${juicePort} is in the answer:\n${neg.answer}`);
      const mPorts = lines.filter((l) => l.startsWith('m=')).map((l) => Number(l.split(' ')[1]));
      const cands = lines.filter((l) => l.startsWith('a=candidate:'));
      if (candidates.length) {
        assert.deepEqual(mPorts, [PUBLIC.port]);
        assert.ok(lines.includes(`c=IN IP4 ${PUBLIC.ip}`), 'the default address is the public candidate');
        assert.deepEqual(cands, [`a=${candidates[0]}`]);
      } else {
        assert.deepEqual(mPorts, [9], 'no candidate: the port is the placeholder 9');
        assert.deepEqual(cands, []);
      }
      // libjuice starts its checks as soon as it has the offer; give it time to send some.
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(stun, [], 'libjuice sent STUN straight to the client, around the gateway');
    } finally {
      neg.pc.close();
      c.close();
      client.close();
      mux.stop();
    }
  });
}

/**
 * WebRTC over TCP (RFC 4571 framing, ICE-TCP passive candidates, RFC 6544)
 * for networks that block UDP. libdatachannel's ICE (libjuice) speaks UDP
 * only, so each TCP connection is relayed to the server's UDP port through a
 * loopback UDP socket of its own: ICE sees the TCP peer as a peer-reflexive
 * candidate on 127.0.0.1 and everything else (STUN, DTLS, SRTP) is
 * unchanged. A connection must open with a STUN Binding Request, as SRS
 * requires; anything else is closed.
 */
import net from 'node:net';
import dgram from 'node:dgram';
import type { Logger } from '../../log/logger.js';
import { Rfc4571Deframer, frameRfc4571, isStunBindingRequest } from '../../protocol/rtp/packet-classifier.js';
import { RtpError } from '../../protocol/rtp/rtp-error.js';

/** A TCP connection silent for this long is closed (ms). */
const IDLE_MS = 30_000;
/**
 * Bytes queued towards a TCP client beyond which packets are dropped, as a
 * full UDP path would drop them: memory stays bounded for a slow client and
 * NACK/PLI repair what is lost (~1 s of a 2.5 Mbit/s stream).
 */
const MAX_QUEUED_BYTES = 256 * 1024;

export class RtcTcpRelay {
  private readonly server: net.Server;
  private readonly conns = new Set<net.Socket>();
  /** The loopback ports of the sockets towards libjuice: the only peers libjuice may have. */
  private readonly innerPorts = new Set<number>();

  constructor(
    private readonly udpPort: number,
    private readonly log: Logger,
  ) {
    this.server = net.createServer((s) => this.onConnection(s));
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Whether a loopback port is one of this relay's UDP sockets towards libjuice. */
  ownsLoopbackPort(port: number): boolean {
    return this.innerPorts.has(port);
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  private onConnection(sock: net.Socket): void {
    this.conns.add(sock);
    sock.setNoDelay(true);
    sock.setTimeout(IDLE_MS, () => sock.destroy());
    const deframer = new Rfc4571Deframer();
    const udp = dgram.createSocket('udp4');
    let first = true;
    let innerPort = 0;
    const close = (): void => {
      this.conns.delete(sock);
      this.innerPorts.delete(innerPort);
      sock.destroy();
      try {
        udp.close();
      } catch {
        /* already closed */
      }
    };
    udp.on('message', (msg) => {
      if (!sock.destroyed && sock.writableLength <= MAX_QUEUED_BYTES) sock.write(frameRfc4571(msg));
    });
    udp.on('error', close);
    // exclusive: under --workers a port-0 bind would otherwise be one socket shared by every worker (node:cluster).
    udp.bind({ port: 0, address: '127.0.0.1', exclusive: true }, () => {
      innerPort = udp.address().port;
      if (!sock.destroyed) this.innerPorts.add(innerPort);
    });
    sock.on('data', (chunk: Buffer) => {
      let packets: Buffer[];
      try {
        packets = deframer.push(chunk);
      } catch (err) {
        if (!(err instanceof RtpError)) throw err;
        this.log.warn({ ip: sock.remoteAddress, err: err.message }, 'WebRTC/TCP: bad framing');
        return close();
      }
      for (const p of packets) {
        if (first) {
          first = false;
          if (!isStunBindingRequest(p)) {
            this.log.warn({ ip: sock.remoteAddress }, 'WebRTC/TCP: connection does not start with a STUN binding request');
            return close();
          }
        }
        udp.send(p, this.udpPort, '127.0.0.1');
      }
    });
    sock.on('error', close);
    sock.on('close', close);
  }

  close(): void {
    for (const s of this.conns) s.destroy();
    this.conns.clear();
    this.server.close();
  }
}

/**
 * A free UDP port on 127.0.0.1 for libjuice's mux behind the gateway: the
 * mux listener takes a port number, not a socket, so one is found by
 * binding and releasing it.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

export function freeLoopbackUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    // exclusive: under --workers a port-0 bind would otherwise go through the primary, which hands every worker the same port.
    s.bind({ port: 0, address: '127.0.0.1', exclusive: true }, () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Binding a UDP port that one process must own. node:cluster shares a
 * non-exclusive UDP bind between workers, and the kernel then hands each
 * datagram to any of them: fatal for protocols whose datagrams belong to
 * one connection or one stream (SRT, MPEG-TS over UDP). So the bind is
 * exclusive and, in a cluster worker, losing the race to another worker is
 * an answer (that worker serves the port), not an error. And the plain
 * bind as a promise, for the sockets one process has anyway (the proxy's).
 */
import cluster from 'node:cluster';
import type dgram from 'node:dgram';

/** Binds `socket`; a bind error rejects (instead of reaching the socket's 'error' listeners). Resolves with the port bound. */
export function bindUdp(socket: dgram.Socket, port: number, address: string, exclusive = false): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address, exclusive }, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
}

/** 'bound', or 'held-by-another-worker' (only ever in a cluster worker); other bind errors reject. */
export async function bindOwnedUdp(socket: dgram.Socket, port: number, address: string): Promise<'bound' | 'held-by-another-worker'> {
  try {
    await bindUdp(socket, port, address, true);
    return 'bound';
  } catch (err) {
    if (!cluster.isWorker || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    socket.close();
    return 'held-by-another-worker';
  }
}

/**
 * Binding a UDP port that one process must own. node:cluster shares a
 * non-exclusive UDP bind between workers, and the kernel then hands each
 * datagram to any of them: fatal for protocols whose datagrams belong to
 * one connection or one stream (SRT, MPEG-TS over UDP). So the bind is
 * exclusive and, in a cluster worker, losing the race to another worker is
 * an answer (that worker serves the port), not an error.
 */
import cluster from 'node:cluster';
import type dgram from 'node:dgram';

/** 'bound', or 'held-by-another-worker' (only ever in a cluster worker); other bind errors reject. */
export async function bindOwnedUdp(socket: dgram.Socket, port: number, address: string): Promise<'bound' | 'held-by-another-worker'> {
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port, address, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return 'bound';
  } catch (err) {
    if (!cluster.isWorker || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    socket.close();
    return 'held-by-another-worker';
  }
}

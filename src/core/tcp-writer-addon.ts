/**
 * The native TCP writer (native/tcp-writer, built by `npm install` with
 * node-gyp): non-blocking sendmsg on a socket's descriptor, one socket or the
 * same buffers to many. Optional: without it every write goes through Node.
 */
import { join } from 'node:path';
import { type NativeAddon, loadNativeAddon } from './native-addon.js';

export interface TcpWriterBinding {
  /** Bytes sent (0 when the socket is full), or -errno. */
  writev(fd: number, chunks: Buffer[]): number;
  /** The same buffers to fds[0..count), one send each; written[i] as writev returns for fds[i]. */
  fanout(fds: Int32Array, count: number, chunks: Buffer[], written: Int32Array): void;
}

/** The most buffers one call takes (the addon's iovec array). */
export const MAX_IOV = 64;

let addon: NativeAddon<TcpWriterBinding> | null = null;

export function tcpWriter(): NativeAddon<TcpWriterBinding> {
  if (addon) return addon;
  if (process.env.SLUICE_TCP_WRITER === 'node') return (addon = { error: 'SLUICE_TCP_WRITER=node' });
  if (process.platform !== 'linux') return (addon = { error: `${process.platform} is not Linux` });
  return (addon = loadNativeAddon<TcpWriterBinding>(join('native', 'tcp-writer', 'build', 'Release', 'sluice_tcp_writer.node')));
}

/** 'native', or why Node's write path is used for every player: for the start log and the API. */
export function directWriteMode(): string {
  const w = tcpWriter();
  return 'binding' in w ? 'native' : `node (${w.error})`;
}

/** Writes the native writer completed or started, every socket, since start. */
export const directWrites = { count: 0 };

/**
 * A WHEP player's seat on its stream's LiveSource: the one hub knows every
 * player of a stream whatever its protocol, so the source is not freed while
 * WebRTC players wait on it, an edge pulls for them as for RTMP players, and
 * when the publisher is gone for good they end with the other players. The
 * media itself reaches the player as RTP (rtc-stream.ts), not through this
 * queue, so the seat writes nothing.
 */
import type { MediaFrame } from '../../codec/media-frame.js';
import { Consumer, type ConsumerOptions, type FrameSink } from '../../live/consumer.js';

const EMPTY = Buffer.alloc(0);

class SeatSink implements FrameSink {
  constructor(private readonly onEnd: (reason: string) => void) {}

  encode(_frame: MediaFrame): Buffer {
    return EMPTY;
  }

  write(): boolean {
    return true;
  }

  end(reason: string): void {
    this.onEnd(reason);
  }
}

/** A consumer that only follows the source's life: realtime, so its queue never holds frames. */
export function playSeat(id: string, options: ConsumerOptions, onEnd: (reason: string) => void): Consumer {
  return new Consumer(id, new SeatSink(onEnd), { ...options, mwLatencyMs: 0 });
}

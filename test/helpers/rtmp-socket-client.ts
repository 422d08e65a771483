/**
 * Tests drive the server with the same socket RTMP client the edge uses,
 * for what ffmpeg cannot do here: thousands of short publishes, a publisher
 * that goes silent, enhanced-RTMP codecs this ffmpeg cannot mux.
 */
import { RtmpClient } from '../../src/clients/rtmp-client.js';

export const RtmpSocketClient = {
  connect(port: number, app: string, tcUrl?: string): Promise<RtmpClient> {
    return RtmpClient.connect({ host: '127.0.0.1', port, app, tcUrl });
  },
};

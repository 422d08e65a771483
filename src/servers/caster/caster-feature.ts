/** `stream_caster` blocks: `mpegts_over_udp` and `flv` run; `gb28181` is reported, not acted on. */
import type { Feature } from '../../core/feature.js';
import { FlvHttpCaster } from './flv-http-caster.js';
import { MpegtsUdpCaster } from './mpegts-udp-caster.js';

export function casterFeature(): Feature {
  return {
    name: 'stream-caster',
    async install(ctx) {
      const casters: (MpegtsUdpCaster | FlvHttpCaster)[] = [];
      for (const c of ctx.config.streamCasters) {
        if (!c.enabled) continue;
        let caster: MpegtsUdpCaster | FlvHttpCaster;
        if (c.caster === 'mpegts_over_udp') caster = new MpegtsUdpCaster(ctx, c);
        else if (c.caster === 'flv') caster = new FlvHttpCaster(ctx, c);
        else {
          ctx.log.warn({ caster: c.caster }, 'stream_caster: only mpegts_over_udp and flv are acted on');
          continue;
        }
        await caster.start();
        casters.push(caster);
      }
      return { stop: async () => void (await Promise.all(casters.map((c) => c.stop()))) };
    },
  };
}

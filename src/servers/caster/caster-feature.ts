/** `stream_caster` blocks: `mpegts_over_udp` runs; `flv` and `gb28181` are reported, not acted on. */
import type { Feature } from '../../core/feature.js';
import { MpegtsUdpCaster } from './mpegts-udp-caster.js';

export function casterFeature(): Feature {
  return {
    name: 'stream-caster',
    async install(ctx) {
      const casters: MpegtsUdpCaster[] = [];
      for (const c of ctx.config.streamCasters) {
        if (!c.enabled) continue;
        if (c.caster !== 'mpegts_over_udp') {
          ctx.log.warn({ caster: c.caster }, 'stream_caster: only mpegts_over_udp is acted on');
          continue;
        }
        const caster = new MpegtsUdpCaster(ctx, c);
        await caster.start();
        casters.push(caster);
      }
      return { stop: () => casters.forEach((c) => c.stop()) };
    },
  };
}

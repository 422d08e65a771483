/** The SRT wing as a feature: installed when `srt_server { enabled on; }` (a change needs a restart, as in SRS). */
import type { Feature } from '../../core/feature.js';
import { SrtServer } from './srt-server.js';

export function srtFeature(): Feature {
  return {
    name: 'srt',
    install(ctx) {
      if (!ctx.config.srtServer.enabled) return {};
      return new SrtServer(ctx).install();
    },
  };
}

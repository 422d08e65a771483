/** Statistics as a feature: counts every session at the admission door and samples rates while the server runs. */
import type { Feature } from '../../core/feature.js';
import type { ServerStats } from './server-stats.js';

export function statsFeature(stats: ServerStats): Feature {
  return {
    name: 'stats',
    install(ctx) {
      ctx.admission.use(stats.policy);
      stats.start();
      return { stop: () => stats.stop() };
    },
  };
}

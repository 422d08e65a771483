/** SRS's HTTP callbacks as a policy at the admission door (on_connect, on_publish, on_play decide; the rest are told). */
import type { Feature } from '../../core/feature.js';
import type { HttpHooks } from './http-hooks.js';

export function hooksFeature(hooks: HttpHooks): Feature {
  return {
    name: 'http_hooks',
    install(ctx) {
      ctx.admission.use(hooks);
      return {};
    },
  };
}

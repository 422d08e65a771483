/** JWT stream authentication as a policy at the admission door (see jwt-policy.ts, docs/AUTH.md). */
import type { Feature } from '../../core/feature.js';
import { JwtPolicy } from './jwt-policy.js';

export const jwtFeature: Feature = {
  name: 'jwt',
  install(ctx) {
    const policy = new JwtPolicy(ctx);
    ctx.admission.use(policy);
    return { stop: () => policy.stop() };
  },
};

/** `security` allow/deny and `refer` as a policy at the admission door. */
import type { Feature } from '../../core/feature.js';
import { SecurityPolicy } from './security-policy.js';

export const securityFeature: Feature = {
  name: 'security',
  install(ctx) {
    ctx.admission.use(new SecurityPolicy(ctx));
    return {};
  },
};

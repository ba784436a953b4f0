import type { CertifyContext } from '../certify-context.js';
import type { InjectorConfig, SidecarMode } from '../config.js';
import type { GuardianView } from '../guardian.js';

/** Everything a patch step may read besides the pod: plain data, resolved before the recipe runs. */
export interface InjectionContext {
  namespace: string;
  config: InjectorConfig;
  guardian: GuardianView;
  /** spec.bundleId of the GuardianSidecar's PolicyBundle: names the ConfigMap to mount. */
  bundleId: string;
  /** Certified identity: where and how the sidecar gets its keys certified. */
  certify: CertifyContext;
  /** Resolved sidecar mode (resolve.ts); absent: config.sidecarMode, "auto" counting as container. */
  mode?: SidecarMode;
}

export function modeOf(ctx: Pick<InjectionContext, 'config' | 'mode'>): SidecarMode {
  return ctx.mode ?? (ctx.config.sidecarMode === 'native' ? 'native' : 'container');
}

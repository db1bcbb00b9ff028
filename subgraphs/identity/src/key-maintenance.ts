import type { ServiceKeyMaintenance } from '@numezis/runtime';
import { rewrapServiceKeys, rotateServiceKey } from './crypto/service-key.ts';
import { defaultDataDir } from './paths.ts';

/**
 * Identity's part in the key commands: no workspace keys (per-user secrets are a person's, not a
 * workspace's), only its own service key, re-wrapped and rotated like the workspace keys.
 */
export const identityKeyMaintenance: ServiceKeyMaintenance = {
  service: { name: 'identity', defaultDataDir },
  workspaceKeys: false,
  serviceKey: {
    rewrap: ({ dataAccess, kms, clock }) => rewrapServiceKeys({ dataAccess, kms, clock }),
    rotate: ({ dataAccess, kms, clock }) => rotateServiceKey({ dataAccess, kms, clock }),
  },
};

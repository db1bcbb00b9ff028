import type { RuntimeEnvironment } from '../config/common.ts';
import type { EncryptionConfig } from '../config/kms.ts';
import type { KeyManagementService } from './kms.ts';
import { KmsError } from './kms.ts';
import { openLocalKms } from './local-kms.ts';

/**
 * Opens the KMS the configuration names. The Cloud KMS client is loaded only when it is used, so a
 * development start on the local provider never loads it.
 */
export async function openKms(
  config: EncryptionConfig,
  environment: RuntimeEnvironment,
): Promise<KeyManagementService> {
  const settings = config.kms;
  if (settings.provider === 'local') {
    return openLocalKms(
      settings.masterKey === undefined
        ? { environment, keyFile: settings.keyFile }
        : { environment, masterKey: settings.masterKey },
    );
  }
  if (settings.endpoint !== undefined && environment === 'production') {
    throw new KmsError('a plaintext Cloud KMS endpoint is refused when NODE_ENV=production');
  }
  const { createGcpKms } = await import('./gcp-kms.ts');
  return createGcpKms({
    keyName: settings.keyName,
    residency: config.residency,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
  });
}

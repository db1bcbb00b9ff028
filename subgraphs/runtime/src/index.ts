export type { Clock } from './clock.ts';
export { manualClock, offsetClock, systemClock } from './clock.ts';
export type { CommonConfig, RuntimeEnvironment } from './config/common.ts';
export { readCommonConfig } from './config/common.ts';
export type { ConfigReader, Env } from './config/reader.ts';
export { ConfigError, createConfigReader } from './config/reader.ts';
export type { SubgraphConfig } from './config/subgraph.ts';
export { readSubgraphConfig } from './config/subgraph.ts';
export * from './context/access-mode.ts';
export * from './context/signed-context.ts';
export type { DataAccess } from './db/data-access.ts';
export type { Tx, DatabaseSettings } from './db/database.ts';
export { databaseEnv } from './db/database.ts';
export { groupBy, portfolioClientLoader, tenantLoader } from './db/tenant-loader.ts';
export * from './errors.ts';
export { loggerOptions, redactUrl } from './logger.ts';
export type { SubgraphContext, SubgraphFiles } from './server/apollo-subgraph.ts';
export { defineApolloSubgraph, mountApolloSubgraph } from './server/apollo-subgraph.ts';
export { maskingFormatError, requestIdPlugin } from './server/graphql-errors.ts';
export { createHttpServer, registerHealthRoutes, withTimeout } from './server/http.ts';
export { forwardedContextOf } from './server/require-signed-context.ts';
export { describeStartupError, listen, runService, StartupError } from './server/run.ts';
export type {
  SubgraphDefinition,
  SubgraphDependencies,
  ServiceEncryption,
  SubgraphIdentity,
  SubgraphService,
} from './server/subgraph-service.ts';
export { createSubgraphService, runSubgraph } from './server/subgraph-service.ts';
export {
  authorize,
  authorizePortfolio,
  denialError,
  requirePermission,
  requireRecentMfa,
  requireTenant,
  requireUser,
} from './tenant.ts';
export { checkFieldAccess } from './policy/field-access.ts';
export type { SystemJob } from './jobs/system-jobs.ts';
export { accessDirectivesTransformer } from './server/access-directives.ts';
export { createAccessDenials } from './security/access-denials.ts';
export type { AccessDenials, DeniedAttempt } from './security/access-denials.ts';
export type { Denial } from './policy/field-access.ts';
export * from './policy/operations.ts';
export * from './policy/roles.ts';
export { requiredText } from './validation.ts';
export { createTestDatabases, openMigratedTestDatabase } from './db/testing.ts';
export type { TestDatabases } from './db/testing.ts';
export { startStack, subgraphNames, defaultPorts, ServiceStartError } from './stack/launch.ts';
export type { RunningStack, ServiceName, SubgraphName, StackOptions } from './stack/launch.ts';
export { startInProcessSubgraph } from './testing/in-process-subgraph.ts';
export type { GraphQLBody, InProcessSubgraph } from './testing/in-process-subgraph.ts';
export { codeIn, mailsTo } from './stack/outbox-reader.ts';
export { minimalPdf } from './stack/minimal-pdf.ts';
export type { OutboxMail } from './stack/outbox-reader.ts';
export * from './mfa/totp.ts';
export type { EncryptionConfig, KmsSettings } from './config/kms.ts';
export { readEncryptionConfig } from './config/kms.ts';
export type { FieldRef } from './crypto/aes-gcm.ts';
export { canonicalAad, DecryptionError } from './crypto/aes-gcm.ts';
export type { FieldCipher, IndexRef } from './crypto/field-cipher.ts';
export { createFieldCipher, normaliseIban } from './crypto/field-cipher.ts';
export type { DataKey, Keyring, KeyringOptions, KeyPurpose, RewrapReport } from './crypto/keyring.ts';
export {
  createKeyring,
  DataKeyNotFoundError,
  dataKeysMigrationSql,
  keyMaintenanceAccess,
  KeyringError,
  WorkspaceShreddedError,
} from './crypto/keyring.ts';
export type { KeyManagementService, KeyWrapper, WrappedKey } from './crypto/kms.ts';
export { KmsError, KmsIntegrityError } from './crypto/kms.ts';
export { openKms } from './crypto/open-kms.ts';
export type { LocalKms } from './crypto/local-kms.ts';
export {
  addLocalKmsVersion,
  addLocalWorkspaceKeyVersion,
  destroyLocalKmsVersion,
  localWorkspaceKeyFile,
  openLocalKms,
} from './crypto/local-kms.ts';
export type { DataResidency } from './crypto/residency.ts';
export type { ReencryptOptions, SealedColumns } from './crypto/sealed-columns.ts';
export { reencryptWorkspace, sealedColumns } from './crypto/sealed-columns.ts';
export type {
  KeyCommandReport,
  OpenKeyService,
  ReencryptSettings,
  ServiceKeyMaintenance,
} from './crypto/key-maintenance.ts';
export {
  KeyCommandRefused,
  reencryptWorkspaceFields,
  rewrapAllKeys,
  rotateServiceKeys,
  rotateWorkspaceKeys,
  shredWorkspace,
} from './crypto/key-maintenance.ts';
export type { KeyCommandOutput } from './crypto/key-commands.ts';
export { keyCommandUsage, keysCli, parseKeyCommand } from './crypto/key-commands.ts';
export type { ServiceMetrics } from './observability/metrics.ts';
export { createServiceMetrics, graphqlMetricsPlugin, registerMetrics } from './observability/metrics.ts';
export type { ErrorReportingSettings } from './observability/error-reporting.ts';
export { configureErrorReporting, flushErrorReports, reportError, scrubText } from './observability/error-reporting.ts';
export type { SharedState } from './shared-state/shared-state.ts';
export { memoryState, openRedisState } from './shared-state/shared-state.ts';
export type { AuditActor, AuditEvent, AuditOutcome, AuditTarget, Json, JsonObject } from './audit/event.ts';
export { auditActorOf, auditEventProblem, auditTenantOf, requestOrigin } from './audit/event.ts';
export { maskedAhv, maskedEmail, maskedIban, redacted } from './audit/masking.ts';
export type { AuditChange } from './audit/mutation-audit.ts';
export { auditChange, recordAuditEvent } from './audit/mutation-audit.ts';
export { auditOutboxMigrationSql } from './audit/outbox.ts';
export type { AuditSender } from './audit/audit-sender.ts';
export type { AuditIngestSettings } from './config/audit-ingest.ts';
export { auditIngestPath } from './config/audit-ingest.ts';
export type { PubSub } from './shared-state/pubsub.ts';
export { memoryPubSub, openRedisPubSub } from './shared-state/pubsub.ts';
export { AuditDeliveryError, httpAuditSender } from './audit/audit-sender.ts';
export { readAuditIngestSettings } from './config/audit-ingest.ts';

// What services import at run time: the access directives and the generated field-to-policy
// registry. Composition itself (and @apollo/composition) stays in the compose command.
export { accessDirectiveTypeDefs, withAccessDirectives } from './directives.ts';
export type { FieldPolicy, FieldScope, PolicyPermission, PolicyRole } from './field-policy.ts';
export { extractFieldPolicies, rootTypes } from './field-policy.ts';
export { fieldPolicy } from './generated/field-policy.ts';
export type { PersistedOperation, PersistedQueryManifest } from './persisted-queries.ts';
export { sha256Hex } from './persisted-queries.ts';
export { persistedQueryManifestFile } from './subgraphs.ts';
export type { AuditActionSpec, AuditedMutation, AuditRetention } from './audit-actions.ts';
export { auditActionSpec, isAuditedMutation, mutationAuditActions, otherAuditActions } from './audit-actions.ts';

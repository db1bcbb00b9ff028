/**
 * The one catalogue of audit actions: every mutation of the supergraph names the action its audit
 * event records, and the few events no mutation causes (refusals, the purge) are listed beside
 * them. A mutation missing here fails `audit-actions.test.ts`, so nothing changes state unrecorded.
 *
 * `retention` decides how long the event is kept: `accounting` events at least ten years after the
 * end of their fiscal year (Swiss Code of Obligations art. 958f), the rest as long as the
 * subscription runs.
 */
export type AuditRetention = 'accounting' | 'standard';

export interface AuditActionSpec {
  readonly action: string;
  readonly retention: AuditRetention;
}

const standard = (action: string): AuditActionSpec => ({ action, retention: 'standard' });
const accounting = (action: string): AuditActionSpec => ({ action, retention: 'accounting' });

export const mutationAuditActions = {
  // identity: accounts and authentication
  'Mutation.signUp': standard('account.signed_up'),
  'Mutation.verifyEmail': standard('account.email_verified'),
  'Mutation.signIn': standard('auth.signed_in'),
  'Mutation.signOut': standard('auth.signed_out'),
  'Mutation.revokeSession': standard('auth.session_revoked'),
  'Mutation.requestPasswordReset': standard('account.password_reset_requested'),
  'Mutation.resetPassword': standard('account.password_reset'),
  'Mutation.generateRecoveryCodes': standard('mfa.recovery_codes_generated'),
  'Mutation.useRecoveryCode': standard('mfa.recovery_code_used'),
  'Mutation.beginTotpEnrolment': standard('mfa.totp_enrolment_started'),
  'Mutation.confirmTotpEnrolment': standard('mfa.totp_enrolled'),
  'Mutation.verifyTotp': standard('mfa.totp_verified'),
  'Mutation.beginPasskeyRegistration': standard('mfa.passkey_registration_started'),
  'Mutation.finishPasskeyRegistration': standard('mfa.passkey_registered'),
  'Mutation.beginPasskeySignIn': standard('auth.passkey_sign_in_started'),
  'Mutation.finishPasskeySignIn': standard('auth.passkey_signed_in'),
  'Mutation.verifyPasskey': standard('mfa.passkey_verified'),
  'Mutation.revokePasskey': standard('mfa.passkey_revoked'),
  // identity: workspaces and their members
  'Mutation.createWorkspace': standard('workspace.created'),
  'Mutation.setMfaRequired': standard('workspace.mfa_requirement_changed'),
  'Mutation.inviteMember': standard('member.invited'),
  'Mutation.acceptInvitation': standard('member.invitation_accepted'),
  'Mutation.setMemberRole': standard('member.role_changed'),
  'Mutation.assignCustomRole': standard('member.custom_role_assigned'),
  'Mutation.removeMember': standard('member.removed'),
  'Mutation.revokeMemberSessions': standard('member.sessions_revoked'),
  'Mutation.createCustomRole': standard('custom_role.created'),
  'Mutation.createApiKey': standard('api_key.created'),
  'Mutation.revokeApiKey': standard('api_key.revoked'),
  'Mutation.linkFiduciary': standard('fiduciary.linked'),
  'Mutation.unlinkFiduciary': standard('fiduciary.unlinked'),
  // documents: receipts are accounting records
  'Mutation.createDocumentUpload': accounting('document.upload_started'),
  'Mutation.createDocumentDownload': standard('document.download_issued'),
  'Mutation.attachDocument': accounting('document.attached'),
  'Mutation.deleteDocument': accounting('document.deleted'),
  // accounting
  'Mutation.createAccount': accounting('ledger.account_created'),
  'Mutation.postJournalEntry': accounting('ledger.entry_posted'),
  'Mutation.createContact': accounting('contact.created'),
  'Mutation.updateContact': accounting('contact.updated'),
  'Mutation.createEmployee': accounting('employee.created'),
  'Mutation.updateEmployee': accounting('employee.updated'),
} as const satisfies Record<string, AuditActionSpec>;

/** Events that no mutation causes. */
export const otherAuditActions = {
  /** A subgraph refused a field (FORBIDDEN or UNAUTHENTICATED) outside a mutation. */
  accessDenied: standard('access.denied'),
  /** The gateway refused an operation before any subgraph saw it. */
  gatewayRefused: standard('gateway.operation_refused'),
  /** The purge job's own run: what it deleted and up to where. */
  purged: standard('audit.purged'),
  /** A receipt's file arrived through its upload link: the document exists from here on. */
  documentUploaded: accounting('document.uploaded'),
  /** A download link was followed and the file served. */
  documentDownloaded: standard('document.downloaded'),
} as const satisfies Record<string, AuditActionSpec>;

export type AuditedMutation = keyof typeof mutationAuditActions;

const allSpecs: readonly AuditActionSpec[] = [
  ...Object.values(mutationAuditActions),
  ...Object.values(otherAuditActions),
];
const byAction = new Map(allSpecs.map((spec) => [spec.action, spec]));

/** The catalogue entry of `action`, or undefined for an action nobody declared. */
export function auditActionSpec(action: string): AuditActionSpec | undefined {
  return byAction.get(action);
}

export function isAuditedMutation(coordinate: string): coordinate is AuditedMutation {
  return Object.hasOwn(mutationAuditActions, coordinate);
}

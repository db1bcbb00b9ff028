import type { Permission } from './roles.ts';

/** Who may call a root field: anyone, anyone signed in, or holders of a permission in the workspace. */
export type Access = Permission | 'public' | 'signed-in';

/**
 * Every root field of the graph and the access it needs. Resolvers enforce from this table
 * (`authorize`), the role × operation matrix test is generated from it and `rolePermissions`, and a
 * test fails when the supergraph has a root field this table does not list, or the other way round.
 */
export const operationAccess = {
  'Query.me': 'public',
  'Query.workspace': 'workspace.read',
  'Query.accounts': 'accounting.read',
  'Query.journalEntries': 'accounting.read',
  'Query.journalEntry': 'accounting.read',
  'Query.document': 'documents.read',
  'Query.documents': 'documents.read',
  'Query.auditEvents': 'audit.read',
  'Mutation.signUp': 'public',
  'Mutation.verifyEmail': 'public',
  'Mutation.signIn': 'public',
  'Mutation.signOut': 'public',
  'Mutation.requestPasswordReset': 'public',
  'Mutation.resetPassword': 'public',
  'Mutation.revokeSession': 'signed-in',
  'Mutation.createWorkspace': 'signed-in',
  'Mutation.acceptInvitation': 'signed-in',
  'Mutation.beginTotpEnrolment': 'signed-in',
  'Mutation.confirmTotpEnrolment': 'signed-in',
  'Mutation.verifyTotp': 'signed-in',
  'Mutation.beginPasskeyRegistration': 'signed-in',
  'Mutation.finishPasskeyRegistration': 'signed-in',
  'Mutation.beginPasskeySignIn': 'public',
  'Mutation.finishPasskeySignIn': 'public',
  'Mutation.verifyPasskey': 'signed-in',
  'Mutation.revokePasskey': 'signed-in',
  'Mutation.generateRecoveryCodes': 'signed-in',
  'Mutation.useRecoveryCode': 'signed-in',
  'Query.apiKeys': 'apikeys.manage',
  'Mutation.createApiKey': 'apikeys.manage',
  'Mutation.revokeApiKey': 'apikeys.manage',
  'Mutation.inviteMember': 'members.manage',
  'Mutation.setMemberRole': 'members.manage',
  'Mutation.createCustomRole': 'members.manage',
  'Mutation.assignCustomRole': 'members.manage',
  'Mutation.removeMember': 'members.manage',
  'Mutation.revokeMemberSessions': 'members.manage',
  'Mutation.setMfaRequired': 'workspace.manage',
  'Mutation.linkFiduciary': 'workspace.manage',
  'Mutation.unlinkFiduciary': 'workspace.manage',
  'Mutation.createAccount': 'accounting.write',
  'Mutation.postJournalEntry': 'accounting.write',
  'Mutation.registerDocument': 'documents.write',
} as const satisfies Record<string, Access>;

export type Operation = keyof typeof operationAccess;

/** The operations that act inside a workspace and need a permission there. */
export type WorkspaceOperation = {
  [K in Operation]: (typeof operationAccess)[K] extends Permission ? K : never;
}[Operation];

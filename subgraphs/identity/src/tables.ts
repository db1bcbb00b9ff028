import {
  bigint,
  boolean,
  customType,
  integer,
  pgSchema,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

const identity = pgSchema('identity');

export const plans = ['FREE', 'PRO', 'PRO_PLUS', 'ENTERPRISE'] as const;
export const roles = ['ADMIN', 'MANAGER', 'OPERATOR', 'VIEWER'] as const;
export const subscriptionStatuses = ['TRIALING', 'ACTIVE', 'PAST_DUE', 'CANCELLED'] as const;

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => Buffer.from(value),
});
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const tenants = identity.table('tenants', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  plan: text('plan', { enum: plans }).notNull(),
  fiscalYearStartMonth: smallint('fiscal_year_start_month').notNull(),
  subscriptionStatus: text('subscription_status', { enum: subscriptionStatuses }).notNull(),
  subscriptionEndsAt: at('subscription_ends_at'),
  mfaRequired: boolean('mfa_required').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
});

export const users = identity.table('users', {
  id: uuid('id').primaryKey(),
  displayName: text('display_name').notNull(),
  email: text('email'),
  emailVerifiedAt: at('email_verified_at'),
  passwordHash: text('password_hash'),
  totpSecretSealed: text('totp_secret_sealed'),
  totpPendingSealed: text('totp_pending_sealed'),
  totpLastStep: bigint('totp_last_step', { mode: 'number' }),
  createdAt: at('created_at').notNull().defaultNow(),
});

export const memberships = identity.table(
  'memberships',
  {
    tenantId: uuid('tenant_id').notNull(),
    userId: uuid('user_id').notNull(),
    role: text('role', { enum: roles }).notNull(),
    customRoleId: uuid('custom_role_id'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.userId] })],
);

export const sessions = identity.table('sessions', {
  id: uuid('id').primaryKey(),
  userId: uuid('user_id').notNull(),
  tokenHash: bytea('token_hash').notNull(),
  activeWorkspaceId: uuid('active_workspace_id'),
  authenticatedWith: text('authenticated_with', { enum: ['PASSWORD', 'PASSKEY'] }).notNull(),
  mfaAt: at('mfa_at'),
  createdAt: at('created_at').notNull(),
  lastSeenAt: at('last_seen_at').notNull(),
  expiresAt: at('expires_at').notNull(),
  revokedAt: at('revoked_at'),
  ip: text('ip'),
  userAgent: text('user_agent'),
});

export const emailVerifications = identity.table('email_verifications', {
  tokenHash: bytea('token_hash').primaryKey(),
  userId: uuid('user_id').notNull(),
  expiresAt: at('expires_at').notNull(),
  usedAt: at('used_at'),
});

export const invitations = identity.table('invitations', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  email: text('email').notNull(),
  role: text('role', { enum: roles }).notNull(),
  tokenHash: bytea('token_hash').notNull(),
  invitedBy: uuid('invited_by').notNull(),
  createdAt: at('created_at').notNull(),
  expiresAt: at('expires_at').notNull(),
  acceptedAt: at('accepted_at'),
});

export const authAttempts = identity.table('auth_attempts', {
  key: text('key').primaryKey(),
  windowStart: at('window_start').notNull(),
  failures: integer('failures').notNull(),
});

export const passkeys = identity.table('passkeys', {
  id: uuid('id').primaryKey(),
  userId: uuid('user_id').notNull(),
  credentialId: text('credential_id').notNull(),
  publicKeySealed: text('public_key_sealed').notNull(),
  counter: bigint('counter', { mode: 'number' }).notNull(),
  transports: text('transports').array().notNull(),
  name: text('name').notNull(),
  createdAt: at('created_at').notNull(),
  lastUsedAt: at('last_used_at'),
});

export const webauthnChallenges = identity.table('webauthn_challenges', {
  challengeHash: bytea('challenge_hash').primaryKey(),
  userId: uuid('user_id'),
  sessionId: uuid('session_id'),
  purpose: text('purpose', { enum: ['REGISTER', 'AUTHENTICATE'] }).notNull(),
  createdAt: at('created_at').notNull(),
  expiresAt: at('expires_at').notNull(),
  usedAt: at('used_at'),
});

export type PasskeyRow = typeof passkeys.$inferSelect;

export const apiKeys = identity.table('api_keys', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  role: text('role', { enum: roles }).notNull(),
  tokenHash: bytea('token_hash').notNull(),
  hint: text('hint').notNull(),
  createdBy: uuid('created_by').notNull(),
  createdAt: at('created_at').notNull(),
  lastUsedAt: at('last_used_at'),
  revokedAt: at('revoked_at'),
});

export const passwordResets = identity.table('password_resets', {
  tokenHash: bytea('token_hash').primaryKey(),
  userId: uuid('user_id').notNull(),
  expiresAt: at('expires_at').notNull(),
  usedAt: at('used_at'),
});

export const recoveryCodes = identity.table(
  'recovery_codes',
  {
    userId: uuid('user_id').notNull(),
    codeHash: bytea('code_hash').notNull(),
    createdAt: at('created_at').notNull(),
    usedAt: at('used_at'),
  },
  (table) => [primaryKey({ columns: [table.userId, table.codeHash] })],
);

export const customRoles = identity.table('custom_roles', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  baseRole: text('base_role', { enum: roles }).notNull(),
  addedPermissions: text('added_permissions').array().notNull(),
  removedPermissions: text('removed_permissions').array().notNull(),
  createdAt: at('created_at').notNull(),
});

export const fiduciaryLinks = identity.table(
  'fiduciary_links',
  {
    tenantId: uuid('tenant_id').notNull(),
    fiduciaryTenantId: uuid('fiduciary_tenant_id').notNull(),
    role: text('role', { enum: roles }).notNull(),
    createdBy: uuid('created_by').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.fiduciaryTenantId] })],
);

/** Versions of the identity service key, stored only wrapped by the KMS (crypto/service-key.ts). */
export const serviceKeys = identity.table('service_keys', {
  version: integer('version').primaryKey(),
  wrapped: bytea('wrapped').notNull(),
  kmsKeyVersion: text('kms_key_version').notNull(),
  createdAt: at('created_at').notNull(),
  retiredAt: at('retired_at'),
});

export type CustomRoleRow = typeof customRoles.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type TenantRow = typeof tenants.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;

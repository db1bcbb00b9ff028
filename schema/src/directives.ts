/**
 * The access directives every subgraph's SDL is read with, defined here once. Every field of
 * `Query`, `Mutation` and `Subscription` carries exactly one scope decision (`@public`, `@signedIn`,
 * `@tenantScoped` or `@portfolioScoped`); `npm run compose` refuses a schema where one does not, and
 * derives the gateway's field-to-policy registry from them. Each subgraph enforces them again on its
 * own fields with a schema transformer.
 *
 * `Role` and `Permission` are part of the contract too: the directives' arguments and identity's API
 * speak the same enums.
 */
export const accessDirectiveTypeDefs = /* GraphQL */ `
  "Built-in roles, highest first."
  enum Role {
    ADMIN
    MANAGER
    OPERATOR
    VIEWER
  }

  "What a role may do in a workspace."
  enum Permission {
    WORKSPACE_READ
    WORKSPACE_MANAGE
    MEMBERS_MANAGE
    ACCOUNTING_READ
    ACCOUNTING_WRITE
    DOCUMENTS_READ
    DOCUMENTS_WRITE
    AUDIT_READ
    APIKEYS_MANAGE
    PAYROLL_READ
    PAYROLL_WRITE
  }

  "Anyone may call this field, signed in or not."
  directive @public on FIELD_DEFINITION

  "A signed-in person, acting on their own account rather than in a workspace."
  directive @signedIn on FIELD_DEFINITION

  "Resolves only in one workspace (tenant access), for that workspace's data."
  directive @tenantScoped on FIELD_DEFINITION

  "Resolves only for a fiduciary reading across its linked client workspaces (portfolio access); read-only."
  directive @portfolioScoped on FIELD_DEFINITION

  "Passes for this built-in role or a higher one, and for custom roles based on one of them."
  directive @requiresRole(role: Role!) on FIELD_DEFINITION

  "Passes when the actor's role (built-in or custom) grants this permission in the workspace; in portfolio access, per client workspace."
  directive @requiresPermission(permission: Permission!) on FIELD_DEFINITION
`;

/** A subgraph's SDL as it is served and composed: the access directives and enums, then its own. */
export function withAccessDirectives(ownSdl: string): string {
  return `${accessDirectiveTypeDefs}\n${ownSdl}`;
}

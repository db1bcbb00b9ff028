import { readFile } from 'node:fs/promises';
import { isPermission, isRole } from '@numezis/runtime/policy/roles';
import { StartupError } from '@numezis/runtime/server/run';
import type { FieldPolicy, FieldScope } from '@numezis/schema';
import type { PolicyRegistry } from './early-refusal.ts';

const scopes: readonly FieldScope[] = ['public', 'signed-in', 'tenant', 'portfolio'];
const setting = 'GATEWAY_FIELD_POLICY_PATH';

/**
 * The field-to-policy registry of a supergraph other than ours, as JSON (`Type.field` to
 * `{ subgraph, scope, role?, permission? }`, what `extractFieldPolicies` in @numezis/schema derives
 * from subgraph SDLs). Read and checked once at start: an entry the gateway could misread stops the
 * start, since a wrong registry would open or close fields silently.
 */
export async function loadFieldPolicyFile(path: string): Promise<PolicyRegistry> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new StartupError(`${setting}: cannot read ${path} as JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new StartupError(`${setting}: ${path} must hold one object of "Type.field" entries`);
  }
  const registry: Record<string, FieldPolicy> = {};
  for (const [coordinate, entry] of Object.entries(parsed)) {
    const policy = fieldPolicyOf(entry);
    if (!/^[_A-Za-z][_0-9A-Za-z]*\.[_A-Za-z][_0-9A-Za-z]*$/.test(coordinate) || policy === null) {
      throw new StartupError(`${setting}: ${path}: the entry for "${coordinate}" is not a field policy`);
    }
    registry[coordinate] = policy;
  }
  return Object.freeze(registry);
}

function fieldPolicyOf(entry: unknown): FieldPolicy | null {
  if (typeof entry !== 'object' || entry === null) return null;
  const { subgraph, scope, role, permission, ...rest } = entry as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof subgraph !== 'string' || subgraph === '') return null;
  if (!scopes.includes(scope as FieldScope)) return null;
  if (role !== undefined && !isRole(role)) return null;
  if (permission !== undefined && !isPermission(permission)) return null;
  return {
    subgraph,
    scope: scope as FieldScope,
    ...(role === undefined ? {} : { role }),
    ...(permission === undefined ? {} : { permission }),
  };
}

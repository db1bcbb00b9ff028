import type { Scenario, ServiceScenario } from '../scenario.ts';
import { deepQueryScenario } from './deep-query/index.ts';
import { mutationScenario } from './mutation/index.ts';

/** Every gateway scenario `npm run bench` knows, by name; the first is the default. */
export const scenarios: readonly Scenario[] = [deepQueryScenario];

/** Scenarios that measure one of our services directly; a full run ends with all of them. */
export const serviceScenarios: readonly ServiceScenario[] = [mutationScenario];

export function scenarioNamed(name: string): Scenario {
  const scenario = scenarios.find((candidate) => candidate.name === name);
  if (scenario === undefined) {
    throw new Error(`no scenario "${name}"; known: ${scenarios.map((known) => known.name).join(', ')}`);
  }
  return scenario;
}

/**
 * What a run measures: with no name, the default gateway scenario and then every service scenario;
 * with one, only that one.
 */
export function scenariosToRun(name: string | null): {
  readonly gateway: Scenario | null;
  readonly services: readonly ServiceScenario[];
} {
  if (name === null) return { gateway: scenarios[0] ?? null, services: serviceScenarios };
  const service = serviceScenarios.find((candidate) => candidate.name === name);
  if (service !== undefined) return { gateway: null, services: [service] };
  if (scenarios.some((candidate) => candidate.name === name)) return { gateway: scenarioNamed(name), services: [] };
  const known = [...scenarios, ...serviceScenarios].map((scenario) => scenario.name);
  throw new Error(`no scenario "${name}"; known: ${known.join(', ')}`);
}

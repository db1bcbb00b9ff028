import type { Scenario } from '../scenario.ts';
import { deepQueryScenario } from './deep-query/index.ts';

/** Every scenario `npm run bench` knows, by name; the first is the default. */
export const scenarios: readonly Scenario[] = [deepQueryScenario];

export function scenarioNamed(name: string): Scenario {
  const scenario = scenarios.find((candidate) => candidate.name === name);
  if (scenario === undefined) {
    throw new Error(`no scenario "${name}"; known: ${scenarios.map((known) => known.name).join(', ')}`);
  }
  return scenario;
}

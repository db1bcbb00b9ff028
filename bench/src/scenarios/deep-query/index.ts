import type { Scenario } from '../../scenario.ts';
import { deepQuery } from './operation.ts';
import { expectedDeepQueryData } from './oracle.ts';
import { deepQuerySubgraphs } from './subgraphs.ts';

export const deepQueryScenario: Scenario = {
  name: 'deep-query',
  description: 'the federation demo graph, one deep query fanning out to every subgraph',
  subgraphs: deepQuerySubgraphs,
  operation: deepQuery,
  expectedData: () => expectedDeepQueryData(deepQuery.body),
};

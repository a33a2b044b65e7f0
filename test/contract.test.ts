/**
 * The contract suite (test/contract/suite.ts) on every surface of this branch. A new
 * surface is one more entry in `surfaces`.
 */
import { describe, it } from "node:test";
import { fetchFastPathSurface, productionSurface, referenceSurface } from "./contract/servers.ts";
import { caseOptions, cases, runCase, type Surface } from "./contract/suite.ts";
import {
  fetchSurface,
  nodeSurface,
  roundTripSurface,
  testingSurface,
} from "./contract/surfaces.ts";

const surfaces: Surface[] = [
  testingSurface,
  fetchSurface,
  nodeSurface,
  roundTripSurface,
  productionSurface,
  fetchFastPathSurface,
  referenceSurface,
];

// CONTRACT_SURFACE=node runs only the surfaces whose name contains "node".
const only = process.env.CONTRACT_SURFACE;

for (const surface of surfaces.filter((s) => only === undefined || s.name.includes(only))) {
  describe(surface.name, () => {
    for (const contractCase of cases) {
      it(contractCase.name, caseOptions(surface, contractCase), () =>
        runCase(surface, contractCase),
      );
    }
  });
}

/**
 * The contract's Fetch handler as a module worker, for workerd: bundled by esbuild and
 * served by a workerd config that `test/runtimes/runtimes.ts` writes.
 */
import { contractHandler } from "./contract-handler.ts";

export default { fetch: contractHandler };

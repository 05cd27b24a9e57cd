/**
 * A keyless crowd cannot stop the draw: the short trial (20 s of crowd)
 * of `keyless_crowd.ts`; the 90 s one runs under `deno task test:faults`.
 */
import { keylessCrowdTrial } from "./keyless_crowd.ts";

Deno.test("a keyless crowd of 3,000 for 20 s: the 5 course agencies load and get 2/3/3/2/0 during it", async () => {
  await keylessCrowdTrial(20, 3_000);
});

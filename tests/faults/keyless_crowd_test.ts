/**
 * A keyless crowd cannot stop the draw: the full trial, 90 s of
 * crowd (the short one runs under `deno task test`).
 */
import { keylessCrowdTrial } from "../keyless_crowd.ts";

Deno.test("a keyless crowd of 3,000 for 90 s: the 5 course agencies load and get 2/3/3/2/0 during it", async () => {
  await keylessCrowdTrial(90, 3_000);
});

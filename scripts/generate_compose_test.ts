/**
 * Tests of the compose document's keys: a fresh secret per file for the
 * central, and for each agency only its own key.
 *
 * @module
 */
import assert from "node:assert/strict";
import { harnessKey } from "./processes.ts";
import { composeDocument, freshAuth } from "./generate_compose.ts";

type Services = Record<string, { environment: Record<string, string> }>;

Deno.test("the central gets the secret, each agency its own key and nothing more", async () => {
  const auth = await freshAuth(3);
  const other = await freshAuth(3);
  assert.notEqual(auth.secret, other.secret, "a fresh secret per file");
  assert.match(auth.secret, /^[0-9a-f]{64}$/);
  const services = composeDocument(3, () => true, auth).services as Services;
  assert.equal(services.server!.environment.AUTH_SECRET, auth.secret);
  for (let k = 1; k <= 3; k++) {
    const env = services[`client${k}`]!.environment;
    assert.equal(env.CLI_AUTH_KEY, harnessKey(k, auth.secret));
    assert.ok(!Object.values(env).includes(auth.secret), `client${k}`);
    assert.ok(!("AUTH_SECRET" in env));
  }
  // The central alone still has a secret (the echo stage needs no key).
  const alone = composeDocument(0, () => false, await freshAuth(0))
    .services as Services;
  assert.match(alone.server!.environment.AUTH_SECRET!, /^[0-9a-f]{64}$/);
  assert.throws(
    () => composeDocument(2, () => true, { secret: auth.secret, keys: [] }),
    /no key for agency 1/,
  );
});

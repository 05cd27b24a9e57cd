/**
 * Tests of reading `DATABASE_URL`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { databaseOptions } from "./pg_options.ts";

Deno.test("a URL with several hosts is passed on; a socket directory stands in for the host", () => {
  const url =
    "postgres://u:p@h1:5432,h2:5433/db?target_session_attrs=read-write";
  assert.deepEqual(databaseOptions(url), {
    url,
    options: { target_session_attrs: "primary" },
  });
  assert.deepEqual(
    databaseOptions("postgres://u@/db?host=/run/pg&port=5433&sslmode=disable"),
    {
      url: "postgres://u@localhost/db?sslmode=disable",
      options: { host: "/run/pg", port: 5433, target_session_attrs: "primary" },
    },
  );
});

Deno.test("a libpq keyword string is read; unknown keywords are refused, not quoted", () => {
  assert.deepEqual(
    databaseOptions(
      "host=h1,h2 port=5432 dbname=lottery user=u password='a b'",
    ),
    {
      url: null,
      options: {
        host: "h1,h2",
        port: 5432,
        database: "lottery",
        user: "u",
        password: "a b",
        target_session_attrs: "primary",
      },
    },
  );
  assert.throws(
    () => databaseOptions("host=h1 secretword=hunter2"),
    (e: unknown) =>
      e instanceof SyntaxError && /secretword/.test(e.message) &&
      !e.message.includes("hunter2"),
  );
  assert.throws(() => databaseOptions("nonsense"), SyntaxError);
});

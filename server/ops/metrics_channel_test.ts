/**
 * Tests of the metrics request channel: answers matched to requests in
 * order, a worker that ends, and lines that are not answers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { METRICS_ANSWER, MetricsRequests } from "./metrics_channel.ts";

Deno.test("answers go to the requests in the order they were sent", async () => {
  const requests = new MetricsRequests();
  const sent: number[] = [];
  const send = (n: number) => () => {
    sent.push(n);
    return Promise.resolve();
  };
  const first = requests.request(send(1));
  const second = requests.request(send(2));
  assert.equal(requests.take("some other stderr line"), false);
  assert.equal(requests.take(METRICS_ANSWER + "[1]"), true);
  assert.equal(requests.take(METRICS_ANSWER + "[2]"), true);
  assert.deepEqual(await Promise.all([first, second]), ["[1]", "[2]"]);
  assert.deepEqual(sent, [1, 2]);
});

Deno.test("a worker that ends, or whose stdin is closed, answers null", async () => {
  const requests = new MetricsRequests();
  const waiting = requests.request(() => Promise.resolve());
  requests.end();
  assert.equal(await waiting, null);
  const unsent = requests.request(() =>
    Promise.reject(new Deno.errors.BrokenPipe("Cannot write: closed"))
  );
  assert.equal(await unsent, null);
});

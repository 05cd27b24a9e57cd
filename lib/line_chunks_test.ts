/**
 * Tests of reading a file in chunks of whole lines.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readLineChunks } from "./line_chunks.ts";

async function chunksOf(text: string, size: number): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "tp0-chunks-" });
  try {
    const path = join(dir, "f.txt");
    await Deno.writeTextFile(path, text);
    using file = await Deno.open(path);
    const decoder = new TextDecoder();
    const chunks: string[] = [];
    for await (const { bytes, end } of readLineChunks(file, size)) {
      chunks.push(decoder.decode(bytes.subarray(0, end)));
    }
    return chunks;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("chunks hold whole lines, together the whole file", async () => {
  const lines = Array.from(
    { length: 200 },
    (_, i) => `line ${"x".repeat(i % 37)}`,
  );
  for (const tail of ["\n", ""]) {
    const text = lines.join("\n") + tail;
    for (const size of [4, 16, 1000, 1 << 16]) {
      const chunks = await chunksOf(text, size);
      assert.equal(chunks.join(""), text, `size ${size}`);
      for (const chunk of chunks.slice(0, -1)) assert.ok(chunk.endsWith("\n"));
    }
  }
  assert.deepEqual(await chunksOf("", 8), []);
  assert.deepEqual(await chunksOf("a much longer line than eight\nb", 8), [
    "a much longer line than eight\n",
    "b",
  ]);
});

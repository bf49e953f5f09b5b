/**
 * The client end to end: `node dist/example.js BASE_URL ARCHIVE` extracts one article, submits the
 * archive as a batch, reads its results back, provokes a problem, and prints a JSON summary.
 */
import { readFile } from "node:fs/promises";

import { FactlineClient, ProblemError } from "./client.js";

const [baseUrl, archivePath] = process.argv.slice(2);
if (!baseUrl || !archivePath) throw new Error("usage: example.js BASE_URL ARCHIVE");
const client = new FactlineClient(baseUrl);

const extraction = await client.createExtraction({
  text: "Berlin – Minister Anna Weber said on Monday that plan number 7 must go ahead.",
  published_at: "2025-12-15",
  types: ["quote", "event"],
});
const speakers = extraction.quotes.map(
  (quote) => extraction.actors.find((actor) => actor.id === quote.speaker_id)?.name ?? null,
);

const submitted = await client.createBatch(new Uint8Array(await readFile(archivePath)));
let batch = submitted;
while (batch.counts.pending > 0) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  batch = await client.getBatch(submitted.id);
}
const results = [];
for await (const result of client.listBatchResults(batch.id, { follow: false })) {
  results.push({ article_id: result.article_id, status: result.status, quotes: result.extraction?.quotes.length });
}

let problemType: string | null = null;
try {
  await client.createExtraction({ text: "" });
} catch (error) {
  if (!(error instanceof ProblemError)) throw error;
  problemType = error.problem.type;
}

console.log(JSON.stringify({ quotes: extraction.quotes.map((q) => q.text), speakers, batch: batch.status, results, problemType }));

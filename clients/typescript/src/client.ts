/**
 * A small typed client of the factline API. Every type comes from `./generated/openapi.ts`, which
 * openapi-typescript generates from the committed openapi.json (`npm run generate`): a change of the
 * API that breaks this client fails its type check.
 */
import type { components, operations } from "./generated/openapi.js";

export type ExtractionRequest = components["schemas"]["ExtractionRequest"];
export type Extraction = components["schemas"]["Extraction"];
export type ItemType = components["schemas"]["ItemType"];
export type Batch = components["schemas"]["Batch"];
export type BatchResult = components["schemas"]["BatchResult"];
export type Problem = components["schemas"]["Problem"];

type CreateExtraction = operations["createExtraction"];
type CreateBatch = operations["createBatch"];
type GetBatch = operations["getBatch"];
type ListBatchResults = operations["listBatchResults"];

/** The service answered an RFC 9457 problem; branch on `problem.type`. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${status} ${problem.type}: ${problem.detail}`);
  }
}

export class FactlineClient {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  private async send(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await this.fetchImpl(new URL(path, this.baseUrl), init);
    if (!response.ok) {
      throw new ProblemError(response.status, (await response.json()) as Problem);
    }
    return response;
  }

  /** POST /v1/extractions: one article in, its grounded facts out. */
  async createExtraction(
    request: CreateExtraction["requestBody"]["content"]["application/json"],
  ): Promise<CreateExtraction["responses"][200]["content"]["application/json"]> {
    const response = await this.send("/v1/extractions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
    });
    return (await response.json()) as Extraction;
  }

  /** POST /v1/batches: an NDJSON, zip, tar or tar.gz archive, extracted in the background. */
  async createBatch(archive: Blob | Uint8Array<ArrayBuffer> | string, types?: ItemType[]): Promise<Batch> {
    const query: NonNullable<CreateBatch["parameters"]["query"]> = types ? { types } : {};
    const search = query.types ? `?types=${query.types.join(",")}` : "";
    const response = await this.send(`/v1/batches${search}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: archive,
    });
    const accepted: CreateBatch["responses"][202]["content"]["application/json"] = await response.json();
    return accepted;
  }

  /** GET /v1/batches/{batch_id}: status, counts, usage and time left. */
  async getBatch(batchId: GetBatch["parameters"]["path"]["batch_id"]): Promise<Batch> {
    const response = await this.send(`/v1/batches/${encodeURIComponent(batchId)}`);
    return (await response.json()) as GetBatch["responses"][200]["content"]["application/json"];
  }

  /** GET /v1/batches/{batch_id}/results: one `BatchResult` per NDJSON line, as they are written. */
  async *listBatchResults(
    batchId: string,
    query: NonNullable<ListBatchResults["parameters"]["query"]> = {},
  ): AsyncGenerator<BatchResult> {
    const params = new URLSearchParams();
    if (query.after !== undefined) params.set("after", String(query.after));
    if (query.follow !== undefined) params.set("follow", String(query.follow));
    const response = await this.send(`/v1/batches/${encodeURIComponent(batchId)}/results?${params}`);
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) yield JSON.parse(line) as BatchResult;
      }
    }
    if (buffered.trim()) yield JSON.parse(buffered) as BatchResult;
  }
}

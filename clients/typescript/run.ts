// Runs the TypeScript consumer against a live Orchard (`.ci/typed-clients` starts `orchard
// demo`): every call through openapi-fetch, every answer validated with ajv against its
// route's schema in the spec the server serves (the committed one: `orchard openapi --check`).
// Exits non-zero on any unexpected status or shape.
//
//   node out/run.js BASE_URL TOKEN
import Ajv2020 from "ajv/dist/2020.js";
import {
  accountStatus,
  allApps,
  describeProblem,
  formatMoney,
  newEvents,
  orchard,
  proceedsByCountry,
} from "./consumer.js";
import type { components } from "./schema";

declare const process: { argv: string[]; exitCode?: number };

type Problem = components["schemas"]["Problem"];

function fail(message: string): never {
  throw new Error(message);
}

async function main(): Promise<void> {
  const [baseUrl, token] = process.argv.slice(2);
  if (baseUrl === undefined || token === undefined) fail("usage: run.js BASE_URL TOKEN");
  const client = orchard(baseUrl, token);
  const spec: unknown = await (await fetch(`${baseUrl}/openapi.json`)).json();
  const ajv = new Ajv2020({ strict: false, validateFormats: false, validateSchema: false });
  ajv.addSchema(spec as object, "spec");
  let checked = 0;

  /** A raw GET of a route the consumer used, validated against the route's schema. */
  async function check(path: string, query: string, status = 200, template = path): Promise<unknown> {
    const response = await fetch(`${baseUrl}${path}${query}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (response.status !== status) fail(`GET ${path}${query}: ${response.status}, expected ${status}`);
    const body: unknown = await response.json();
    const media = status >= 400 ? "application~1problem+json" : "application~1json";
    const pointer = `spec#/paths/${template.replaceAll("/", "~1")}/get/responses/${status}/content/${media}/schema`;
    const validate = ajv.getSchema(pointer) ?? ajv.compile({ $ref: pointer });
    if (!validate(body)) fail(`GET ${path}${query}: not its schema: ${ajv.errorsText(validate.errors)}`);
    checked += 1;
    return body;
  }

  // A list walked to its end, small pages and one big page agreeing.
  const apps = await allApps(client);
  const paged = await allApps(client, 1);
  if (apps.length === 0 || paged.map((a) => a.id).join() !== apps.map((a) => a.id).join()) {
    fail(`paging apps one by one gave ${paged.length}, one page ${apps.length}`);
  }
  await check("/v1/apps", "?limit=2");

  // Each account's sync status, every page of it (small pages).
  const accounts = [...new Set(apps.map((a) => a.account_id))];
  let entries = 0;
  for (const account of accounts) {
    const status = await accountStatus(client, account);
    if (status.length === 0) fail(`no sync status for account ${account}`);
    for (const entry of status) {
      if (entry.state === "failing" && entry.last_error === null) fail(`${entry.dataset} failing without its error`);
    }
    entries += status.length;
    await check(`/v1/accounts/${account}/sync-status`, "?limit=5", 200, "/v1/accounts/{account_id}/sync-status");
  }

  // Money: proceeds by country, and an MRR series whose points carry amounts.
  const today = new Date();
  const to = today.toISOString().slice(0, 10);
  const from = new Date(today.getTime() - 30 * 86_400_000).toISOString().slice(0, 10);
  const sales = await proceedsByCountry(client, from, to);
  if (sales.etag === null) fail("/v1/sales answered without an ETag");
  await check("/v1/sales", `?from=${from}&to=${to}&group_by=country`);
  const series = await client.GET("/v1/subscriptions/summary/series", {
    params: { query: { from, to, metric: "estimated_mrr" } },
  });
  if (series.error !== undefined) fail(describeProblem(series.error));
  if (series.data.kind !== "money") fail(`estimated_mrr is a ${series.data.kind} series`);
  const amounts = series.data.points.flatMap((point) => (point.amounts ?? []).map(formatMoney));
  for (const amount of amounts) {
    if (!/^-?\d+(\.\d+)? [A-Z]{3}$/.test(amount)) fail(`money ${amount}`);
  }
  await check("/v1/subscriptions/summary/series", `?from=${from}&to=${to}&metric=estimated_mrr`);

  // The events feed walked until `has_more` is false, then polled once more.
  const first = await newEvents(client);
  const again = await newEvents(client, first.cursor);
  await check("/v1/events", "?limit=50");
  await check("/v1/review-queue", "");

  // A refused parameter: a Problem naming it.
  const problem = (await check("/v1/apps", "?platform=BOGUS", 422)) as Problem;
  if (!describeProblem(problem).includes("platform")) fail(`422 without the parameter: ${describeProblem(problem)}`);

  console.log(
    `TypeScript consumer ran: ${apps.length} apps (paged one by one too), ${entries} sync-status entries ` +
      `of ${accounts.length} accounts, ${amounts.length} MRR amounts, ${first.seen.length} events ` +
      `(+${again.seen.length} since); ${checked} answers valid against the spec`,
  );
}

main().catch((error: unknown) => {
  console.error(`TypeScript consumer failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});

// A small strict consumer of Orchard's typed client: if a spec change breaks what a frontend
// relies on (names, required fields, enums, envelopes), `tsc` fails here in CI; run.ts then
// runs it against a live Orchard (`.ci/typed-clients` starts `orchard demo`).
// `schema.d.ts` is generated from openapi/openapi.json by openapi-typescript (see README).
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type App = components["schemas"]["AppRead"];
type Money = components["schemas"]["Money"];
type Problem = components["schemas"]["Problem"];
type Dataset = components["schemas"]["SyncStatusEntry"]["dataset"];
type SalesDimension = NonNullable<
  NonNullable<paths["/v1/sales"]["get"]["parameters"]["query"]>["group_by"]
>[number];

export function orchard(baseUrl: string, token: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

export function describeProblem(problem: Problem): string {
  const fields = (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`).join("; ");
  const wait = problem.retry_after_seconds === undefined ? "" : ` (retry in ${problem.retry_after_seconds} s)`;
  return `${problem.status} ${problem.title} at ${problem.instance}: ${fields || problem.detail}${wait}`;
}

export function formatMoney(money: Money): string {
  // `currency` is never null: a zero without a currency is `null` money, not a Money.
  const currency: string = money.currency;
  return `${money.amount} ${currency}`;
}

/** Every app, page after page: one envelope, `next_cursor` null at the end. */
export async function allApps(client: ReturnType<typeof orchard>, limit = 200): Promise<App[]> {
  const apps: App[] = [];
  let cursor: string | undefined;
  for (;;) {
    const { data, error } = await client.GET("/v1/apps", {
      params: { query: { limit, ...(cursor === undefined ? {} : { cursor }) } },
    });
    if (error !== undefined) throw new Error(describeProblem(error));
    apps.push(...data.items);
    if (data.next_cursor === null) return apps;
    cursor = data.next_cursor;
  }
}

/** The events feed: never-null cursor, so the walk ends on `has_more`. */
export async function newEvents(client: ReturnType<typeof orchard>, cursor?: string) {
  const seen: string[] = [];
  let position = cursor;
  for (;;) {
    const { data, error } = await client.GET("/v1/events", {
      params: { query: position === undefined ? {} : { cursor: position } },
    });
    if (error !== undefined) throw new Error(describeProblem(error));
    for (const event of data.items) seen.push(`${event.type} ${event.to_state ?? ""}`);
    position = data.next_cursor;
    if (!data.has_more) return { seen, cursor: position };
  }
}

export async function proceedsByCountry(client: ReturnType<typeof orchard>, from: string, to: string) {
  const groupBy: SalesDimension[] = ["country"];
  const { data, error, response } = await client.GET("/v1/sales", {
    params: { query: { from, to, group_by: groupBy } },
  });
  if (error !== undefined) throw new Error(describeProblem(error));
  const etag = response.headers.get("ETag");
  const first = data.items[0];
  return { etag, firstBucket: first === undefined ? null : first };
}

export async function backfill(client: ReturnType<typeof orchard>, accountId: string) {
  const datasets: Dataset[] = ["sales_daily", "reviews"];
  const { data, error } = await client.POST("/v1/accounts/{account_id}/sync", {
    params: { path: { account_id: accountId } },
    body: { datasets },
  });
  if (error !== undefined) throw new Error(describeProblem(error));
  return data.enqueued;
}

/** One account's datasets, every page: the same envelope as every other list. */
export async function accountStatus(client: ReturnType<typeof orchard>, accountId: string) {
  const entries: components["schemas"]["SyncStatusEntry"][] = [];
  let cursor: string | undefined;
  for (;;) {
    const { data, error } = await client.GET("/v1/accounts/{account_id}/sync-status", {
      params: { path: { account_id: accountId }, query: cursor === undefined ? { limit: 50 } : { limit: 50, cursor } },
    });
    if (error !== undefined) throw new Error(describeProblem(error));
    entries.push(...data.items);
    if (data.next_cursor === null) return entries;
    cursor = data.next_cursor;
  }
}

/** A subscription series: `kind` says whether the points carry `value` or `amounts`. */
export async function seriesTotal(client: ReturnType<typeof orchard>, from: string, to: string) {
  const { data, error } = await client.GET("/v1/subscriptions/summary/series", {
    params: { query: { from, to, metric: "estimated_mrr" } },
  });
  if (error !== undefined) throw new Error(describeProblem(error));
  if (data.kind === "count") {
    return data.points.reduce((sum, point) => sum + (point.value ?? 0), 0);
  }
  return data.points.flatMap((point) => (point.amounts ?? []).map(formatMoney)).join(", ");
}

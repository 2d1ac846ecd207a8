/**
 * V10-V11: a route's schemas (any Standard Schema: zod, valibot, ArkType...).
 * The inputs are checked after the body is read (and verified and decrypted
 * when sealed) and before any `beforeHandle` hook or the handler: every
 * failure of every input in one 400 `USRV_ERR_VALIDATION`. The schemas'
 * outputs replace what they checked. When the app asks (`checkResponses`),
 * the handler's answer is checked too: a mismatch is a 500 naming the route.
 */
import { HttpError } from "../common/errors.js";
import type { StandardSchemaV1 } from "../common/standard-schema.js";
import { type Dict, dict } from "./query.js";
import type { Sources } from "./values.js";

/** Where a value comes from. */
export type Input = "params" | "query" | "headers" | "body";

/** A route's schemas, as bind keeps them. */
export interface RouteSchemas {
  params?: StandardSchemaV1 | undefined;
  query?: StandardSchemaV1 | undefined;
  headers?: StandardSchemaV1 | undefined;
  body?: StandardSchemaV1 | undefined;
  /** One schema for every 2xx answer, or one per status; documented always, checked when `checkResponse`. */
  response?: StandardSchemaV1 | Readonly<Record<number, StandardSchemaV1>> | undefined;
  /** The app checks answers (`checkResponses`) and this route has a response schema. */
  checkResponse?: boolean;
  /** Anything to check on a request: an input schema, or a checked response. */
  checks?: boolean;
}

/** One failure, as the error body lists it. */
export interface ValidationIssue {
  in: Input | "response";
  /** The keys down to the value (`["items", 2, "price"]`), empty for the whole input. */
  path: (string | number)[];
  message: string;
}

// A body of 100,000 bad fields must not make a 10 MB error: the list, the
// messages and the paths an attacker's keys fill are bounded.
const MAX_ISSUES = 100;
const MAX_TEXT = 200;
const MAX_DEPTH = 32;

const INPUTS: readonly Input[] = ["params", "query", "headers", "body"];

type Outcome = StandardSchemaV1.Result<unknown>;

function text(value: string): string {
  return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}...` : value;
}

function issuesOf(where: ValidationIssue["in"], outcome: Outcome, into: ValidationIssue[]): number {
  const issues = outcome.issues ?? [];
  for (const issue of issues) {
    if (into.length >= MAX_ISSUES) break;
    const path = (issue.path ?? []).slice(0, MAX_DEPTH).map((segment) => {
      const key = typeof segment === "object" && segment !== null ? segment.key : segment;
      return typeof key === "number" ? key : text(String(key));
    });
    into.push({ in: where, path, message: text(String(issue.message)) });
  }
  return issues.length;
}

function invalid(list: ValidationIssue[], total: number, label: string): HttpError {
  const detail: { issues: ValidationIssue[]; more?: number } = { issues: list };
  if (total > list.length) detail.more = total - list.length;
  const first = list[0];
  const where = first ? `${first.in}${first.path.length ? `.${first.path.join(".")}` : ""}` : "input";
  return new HttpError(
    "USRV_ERR_VALIDATION",
    `${total} invalid value${total === 1 ? "" : "s"} for ${label} (first: ${where}: ${first?.message ?? "invalid"})`,
    { detail },
  );
}

/** A schema's output as named values: its own keys when it is a plain object. */
function named(value: unknown): Dict | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  return Object.assign(dict(), value);
}

/** The values each schema checks. */
function inputOf(where: Input, s: Sources): unknown {
  if (where === "query") return s.query;
  if (where === "headers") return s.headers;
  if (where === "body") return s.parsed;
  const params = dict();
  for (let i = 0; i < s.pathNames.length; i++) params[s.pathNames[i]!] = s.pathValues[i];
  return params;
}

/** The sources with each checked input replaced by its schema's output. */
function replaced(s: Sources, wheres: Input[], outcomes: Outcome[], label: string): Sources {
  const issues: ValidationIssue[] = [];
  let total = 0;
  for (let i = 0; i < outcomes.length; i++) total += issuesOf(wheres[i]!, outcomes[i]!, issues);
  if (total > 0) throw invalid(issues, total, label);
  const out: Sources = { ...s };
  for (let i = 0; i < outcomes.length; i++) {
    const value = (outcomes[i] as StandardSchemaV1.SuccessResult<unknown>).value;
    const where = wheres[i]!;
    if (where === "query") out.query = named(value) ?? dict();
    else if (where === "headers") out.headers = value;
    else if (where === "body") {
      out.parsed = value;
      out.body = named(value);
    } else {
      // V11: a path value a schema types is not overridden by a query or body value of its name
      const params = named(value) ?? dict();
      out.pathNames = Object.keys(params);
      out.pathValues = Object.values(params);
      out.pathFirst = true;
    }
  }
  return out;
}

/**
 * V10: the sources once every input with a schema holds (all checked, every
 * failure listed), or a 400 `USRV_ERR_VALIDATION`; a promise only when a
 * schema answers with one.
 *
 * @example
 * checkInputs({ query: z.object({ n: z.coerce.number() }) }, sources, "GET /sum"); // sources, query.n a number
 */
export function checkInputs(schemas: RouteSchemas, s: Sources, label: string): Sources | Promise<Sources> {
  const wheres: Input[] = [];
  const outcomes: (Outcome | Promise<Outcome>)[] = [];
  let pending = false;
  for (const where of INPUTS) {
    const schema = schemas[where];
    if (schema === undefined) continue;
    const outcome = schema["~standard"].validate(inputOf(where, s));
    pending ||= outcome instanceof Promise;
    wheres.push(where);
    outcomes.push(outcome);
  }
  if (!pending) return replaced(s, wheres, outcomes as Outcome[], label);
  return Promise.all(outcomes).then((done) => replaced(s, wheres, done, label));
}

/** The schema for an answer's status: one per status, or one for every 2xx. */
function schemaFor(
  response: NonNullable<RouteSchemas["response"]>,
  status: number,
): StandardSchemaV1 | undefined {
  if ("~standard" in response)
    return status >= 200 && status < 300 ? (response as StandardSchemaV1) : undefined;
  return Object.hasOwn(response, status) ? (response as Record<number, StandardSchemaV1>)[status] : undefined;
}

/**
 * V12: the handler's result, unchanged, when its JSON value holds under the
 * response schema of its status; else a 500 `USRV_ERR_BAD_RESPONSE` naming
 * the route, its issues in the detail. A Response, or a status without a
 * schema, passes as it is.
 *
 * @example
 * checkAnswer(z.object({ id: z.number() }), [200, { id: "7" }], "GET /item"); // throws: USRV_ERR_BAD_RESPONSE
 */
export function checkAnswer(
  response: NonNullable<RouteSchemas["response"]>,
  out: unknown,
  label: string,
): unknown | Promise<unknown> {
  if (!Array.isArray(out) || !Number.isInteger(out[0])) return out; // render refuses it, or a Response
  const status = out[0] as number;
  const schema = schemaFor(response, status);
  if (schema === undefined) return out;
  const value = out.length === 1 ? null : out.length === 2 ? out[1] : out.slice(1); // as render writes it
  const judge = (outcome: Outcome) => {
    if (outcome.issues === undefined) return out;
    const issues: ValidationIssue[] = [];
    const total = issuesOf("response", outcome, issues);
    const detail: { issues: ValidationIssue[]; more?: number } = { issues };
    if (total > issues.length) detail.more = total - issues.length;
    throw new HttpError(
      "USRV_ERR_BAD_RESPONSE",
      `the ${status} answer of ${label} does not match its response schema (${total} issue${total === 1 ? "" : "s"})`,
      { detail },
    );
  };
  const outcome = schema["~standard"].validate(value);
  return outcome instanceof Promise ? outcome.then(judge) : judge(outcome);
}

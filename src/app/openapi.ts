/**
 * An OpenAPI 3.1 document of an app's routes (issue 15, item 2): path markups
 * become path parameters typed by their converter, schemas become JSON
 * Schema through the schema library's own converter (Standard JSON Schema,
 * which zod 4 implements; `@valibot/to-json-schema` for valibot), else an
 * open schema that says why; methods, statuses and usrv's error envelope are
 * documented. Loaded only by `app.openapi()` and `usrv openapi`.
 */
import { ERRORS } from "../common/errors.js";
import { importNamed, importPeer } from "../common/peer.js";
import type { StandardSchemaV1 } from "../common/standard-schema.js";
import { parsePattern } from "../core/path.js";
import type { RouteSchemas } from "../core/validate.js";
import type { Route } from "./route.js";

/** What the document says about the API itself. */
export interface OpenAPIOptions {
  /** `info.title`, default "usrv app". */
  title?: string;
  /** `info.version` (the API's, not OpenAPI's), default "0.0.0". */
  version?: string;
  /** `info.description`. */
  description?: string;
  /** Where the API is served, e.g. `[{ url: "https://api.example.com" }]`. */
  servers?: { url: string; description?: string }[];
  /** Paths left out of the document (its own route, say). */
  exclude?: readonly string[];
}

/** A JSON Schema (draft 2020-12, OpenAPI 3.1's dialect). */
export type JsonSchema = Record<string, unknown>;

/** An OpenAPI 3.1 document, as JSON. */
export interface OpenAPIDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description?: string };
  servers?: { url: string; description?: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema> };
}

/** What each built-in converter reads, as the parameter's schema. */
const CONVERTED: Record<string, JsonSchema> = {
  int: { type: "integer" },
  float: { type: "number" },
  str: { type: "string" },
  bool: { type: "boolean" },
  uuid: { type: "string", format: "uuid" },
  path: { type: "string", description: "the rest of the path, slashes included (<path:...>)" },
};

const ERROR_REF = { $ref: "#/components/schemas/UsrvError" };
/** usrv's error envelope (README, "Responses"). */
const USRV_ERROR: JsonSchema = {
  type: "object",
  description: "usrv's error answer; an onError hook may answer with its own envelope instead",
  required: ["status", "error", "code", "message"],
  properties: {
    status: { type: "integer", minimum: 400, maximum: 599 },
    error: { type: "string", description: "the status's reason phrase" },
    code: { type: "string", description: "a stable code", examples: Object.keys(ERRORS) },
    message: { type: "string" },
    detail: { description: "more, when the error has it (USRV_ERR_VALIDATION: { issues, more? })" },
    requestId: { type: "string" },
  },
};
const BODY_TYPES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"];
/** Headers OpenAPI describes elsewhere: parameters of these names are ignored by its tools. */
const NOT_PARAMETERS = new Set(["accept", "content-type", "authorization"]);

/**
 * The JSON Schema of what a schema accepts, by its library's own converter:
 * Standard JSON Schema (`~standard.jsonSchema`, zod 4), valibot through
 * `@valibot/to-json-schema` (an optional peer dependency), else an open
 * schema naming the library.
 */
async function jsonSchemaOf(schema: StandardSchemaV1): Promise<JsonSchema> {
  const props = schema["~standard"] as StandardSchemaV1.Props & {
    jsonSchema?: { input?: (options: { target: string }) => JsonSchema };
  };
  let out: JsonSchema | undefined;
  if (typeof props.jsonSchema?.input === "function") {
    out = props.jsonSchema.input({ target: "draft-2020-12" });
  } else if (props.vendor === "valibot") {
    const { toJsonSchema } = await importPeer(
      "@valibot/to-json-schema",
      "an OpenAPI document of valibot schemas",
      () => importNamed<typeof import("@valibot/to-json-schema")>("@valibot/to-json-schema"),
    );
    // transforms have no JSON Schema: "ignore" documents what comes before them
    out = toJsonSchema(schema as never, { errorMode: "ignore" }) as JsonSchema;
  }
  if (out === undefined) {
    return { description: `a ${props.vendor} schema: its library has no JSON Schema converter usrv knows` };
  }
  const { $schema: _, ...rest } = out;
  return rest;
}

/** The properties of an object schema, each with whether it is required. */
function propertiesOf(schema: JsonSchema): [string, JsonSchema, boolean][] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, s]) => [name, s, required.has(name)]);
}

/** `/user/<int:id>` as OpenAPI spells it: `/user/{id}`; the markups, in order. */
function templateOf(pattern: string): { path: string; markups: { name: string; type: string }[] } {
  const segments = parsePattern(pattern);
  const markups: { name: string; type: string }[] = [];
  const parts = segments.map((s) => {
    if (s.kind === "static") return s.text;
    markups.push({ name: s.name, type: s.kind === "rest" ? "path" : s.type });
    return `{${s.name}}`;
  });
  return { path: `/${parts.join("/")}`, markups };
}

async function parameters(route: Route, markups: { name: string; type: string }[]): Promise<unknown[]> {
  const schemas: RouteSchemas = route.schemas ?? {};
  const out: unknown[] = [];
  const typed = schemas.params ? await jsonSchemaOf(schemas.params) : undefined;
  const byName = new Map(typed ? propertiesOf(typed).map(([n, s]) => [n, s]) : []);
  for (const { name, type } of markups) {
    out.push({
      name,
      in: "path",
      required: true,
      schema: byName.get(name) ?? CONVERTED[type] ?? { description: `read by the converter "${type}"` },
    });
  }
  for (const where of ["query", "headers"] as const) {
    const schema = schemas[where];
    if (schema === undefined) continue;
    for (const [name, s, required] of propertiesOf(await jsonSchemaOf(schema))) {
      if (where === "headers" && NOT_PARAMETERS.has(name.toLowerCase())) continue;
      out.push({ name, in: where === "query" ? "query" : "header", required, schema: s });
    }
  }
  return out;
}

async function responses(route: Route): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const response = route.schemas?.response;
  const json = (schema: JsonSchema, description: string) => ({
    description,
    content: { "application/json": { schema } },
  });
  if (response === undefined) {
    out["200"] = json({}, "the handler's values as JSON: one value as itself, several as a list");
  } else if ("~standard" in response) {
    out["200"] = json(await jsonSchemaOf(response as StandardSchemaV1), "a 2xx answer (its response schema)");
  } else {
    for (const [status, schema] of Object.entries(response as Record<number, StandardSchemaV1>)) {
      out[status] = json(await jsonSchemaOf(schema), `a ${status} answer (its response schema)`);
    }
  }
  const s = route.schemas;
  if (s !== null && (s.params || s.query || s.headers || s.body)) {
    out["400"] ??= json(ERROR_REF, "USRV_ERR_VALIDATION (detail.issues), or another bad request");
  }
  out.default = json(ERROR_REF, "an error: usrv's envelope (see components.schemas.UsrvError)");
  return out;
}

function operationId(method: string, path: string, taken: Set<string>): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const base = [method.toLowerCase(), ...words].join("_") || method.toLowerCase();
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
  taken.add(id);
  return id;
}

/**
 * The OpenAPI 3.1 document of these routes.
 *
 * @example
 * const doc = await openapi(app.router.entries().map(([, route]) => route), { title: "Shop", version: "1.2.0" });
 */
export async function openapi(
  routes: readonly Route[],
  options: OpenAPIOptions = {},
): Promise<OpenAPIDocument> {
  const exclude = new Set(options.exclude ?? []);
  const paths: OpenAPIDocument["paths"] = {};
  const taken = new Set<string>();
  const ordered = [...routes].sort(
    (a, b) => a.pattern.localeCompare(b.pattern) || a.method.localeCompare(b.method),
  );
  for (const route of ordered) {
    if (exclude.has(route.pattern)) continue;
    const { path, markups } = templateOf(route.pattern);
    const method = route.method.toLowerCase();
    const operation: Record<string, unknown> = {
      operationId: operationId(method, path, taken),
      parameters: await parameters(route, markups),
      responses: await responses(route),
    };
    if (route.schemas?.body) {
      const schema = await jsonSchemaOf(route.schemas.body);
      operation.requestBody = {
        required: true,
        content: Object.fromEntries(BODY_TYPES.map((type) => [type, { schema }])),
      };
    } else if (method !== "get" && method !== "head") {
      operation.requestBody = {
        required: false,
        content: Object.fromEntries(BODY_TYPES.map((type) => [type, { schema: {} }])),
      };
    }
    if (route.encrypted) operation["x-usrv-encrypted"] = route.encrypted; // docs/wire.md, docs/wire-v2.md
    (paths[path] ??= {})[method] = operation;
  }
  const info: OpenAPIDocument["info"] = {
    title: options.title ?? "usrv app",
    version: options.version ?? "0.0.0",
  };
  if (options.description !== undefined) info.description = options.description;
  const doc: OpenAPIDocument = {
    openapi: "3.1.0",
    info,
    paths,
    components: { schemas: { UsrvError: USRV_ERROR } },
  };
  if (options.servers !== undefined) doc.servers = options.servers;
  return doc;
}

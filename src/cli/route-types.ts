/**
 * The route table of `usrv types`: TypeScript source that spells out, per
 * method, the property path of each route and its positional arguments,
 * and points at its handler's type (`typeof import("./routes.js").getUser`).
 * The checker then reads each route once, in a flat table, and never
 * infers a whole app's type (what makes Hono's `hc` slow on large apps).
 */
import { NOT_SEGMENTS } from "../client/builder.js";
import { parsePattern, type Segment } from "../core/path.js";

/** One route: its method, its pattern, and where its handler's type is (`null`: not exported, untyped). */
export interface TypedRoute {
  method: string;
  pattern: string;
  handler: { module: string; name: string } | null;
}

interface Node {
  calls: string[];
  children: Map<string, Node>;
}

const node = (): Node => ({ calls: [], children: new Map() });

/** The methods a `Client` has a property for; others are called through `client.endpoint(method)`, untyped. */
export const CLIENT_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "HEAD",
  "OPTIONS",
]);

/** The client's argument type for a markup: what the route's converter reads. */
function markupType(type: string): string {
  if (type === "int" || type === "float") return "number";
  if (type === "bool") return '"true" | "false" | 0 | 1';
  if (type === "str" || type === "uuid") return "string";
  return "string | number"; // a converter of the app's own: sent as its text
}

/** A static segment the client's builder reads as a property (`GET.user`), not one it skips or renames. */
const asProperty = (text: string) => text !== "" && !NOT_SEGMENTS.has(text) && !/^_\d/.test(text);

/** A label for a tuple element (`[id: number]`), a valid identifier. */
const label = (name: string, i: number) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : `segment${i}`);

/** Splits a pattern into the properties read and the positional arguments' types. */
function place(segments: Segment[]): { path: string[]; args: string[] } {
  const path: string[] = [];
  let i = 0;
  for (; i < segments.length; i++) {
    const s = segments[i]!;
    if (s.kind !== "static" || !asProperty(s.text)) break;
    path.push(s.text);
  }
  const args = segments.slice(i).map((s, j) => {
    if (s.kind === "static") return `${label("", i + j)}: ${JSON.stringify(s.text)}`;
    if (s.kind === "rest") return `${label(s.name, i + j)}: string`;
    return `${label(s.name, i + j)}: ${markupType(s.type)}`;
  });
  return { path, args };
}

/** A property key as written in a type: bare when it is an identifier. */
const key = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));

function print(n: Node, indent: string): string {
  const parts = [...n.calls];
  if (n.children.size > 0) {
    const inner = `${indent}  `;
    const lines = [...n.children].map(([k, c]) => `${inner}readonly ${key(k)}: ${print(c, inner)};`);
    parts.push(`{\n${lines.join("\n")}\n${indent}}`);
  }
  return parts.length === 0 ? "{}" : parts.join(" & ");
}

/**
 * The source of the route table `Routes` for `createClient<Routes>()`.
 * Routes with an empty segment (`/a//b`) are left out: the client cannot
 * send one; so are methods the client has no property for (`PURGE`).
 *
 * @example
 * routeTypes([{ method: "GET", pattern: "/user/<int:id>", handler: { module: "./routes.js", name: "getUser" } }]);
 * // export interface Routes { readonly "GET": { readonly "user": TypedCall<"GET", [id: number], typeof import("./routes.js").getUser>; }; }
 */
export function routeTypes(routes: readonly TypedRoute[], header = ""): string {
  const roots = new Map<string, Node>();
  for (const { method, pattern, handler } of routes) {
    if (!CLIENT_METHODS.has(method)) continue;
    const segments = parsePattern(pattern);
    if (segments.some((s) => s.kind === "static" && s.text === "")) continue;
    const { path, args } = place(segments);
    let at: Node | undefined = roots.get(method);
    if (at === undefined) roots.set(method, (at = node()));
    for (const key of path) {
      let next: Node | undefined = at.children.get(key);
      if (next === undefined) at.children.set(key, (next = node()));
      at = next;
    }
    const type =
      handler === null
        ? "unknown"
        : `typeof import(${JSON.stringify(handler.module)})[${JSON.stringify(handler.name)}]`;
    at.calls.push(`TypedCall<${JSON.stringify(method)}, [${args.join(", ")}], ${type}>`);
  }
  const methods = [...roots].map(([m, n]) => `  readonly ${key(m)}: ${print(n, "  ")};`);
  return `${header}import type { TypedCall } from "usrv/client";

/** The routes of the app, for \`createClient<Routes>()\` of usrv/client. */
export interface Routes {
${methods.join("\n")}
}
`;
}

/**
 * `usrv types BINDINGS...`: the route table that types a client
 * (`createClient<Routes>()`), from binding modules loaded as `usrv serve`
 * loads them (nothing listens). A route's handler is found among its
 * module's exports, and named by a type reference that tsc resolves: the
 * generator itself never needs the types. Exit 0, 1 on an error, 2 on a
 * usage error.
 */
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Route } from "../app/route.js";
import { emit, loadForCommand } from "./bindings-command.js";
import { UsageError } from "./errors.js";
import { CLIENT_METHODS, routeTypes, type TypedRoute } from "./route-types.js";
import { locate } from "./serve-bindings.js";

const USAGE = `usage: usrv types [options] BINDINGS...

  BINDINGS              binding modules, as for usrv serve (files or packages, .js or .ts)

Writes the route table for createClient<Routes>() of usrv/client. A route is
typed (its values and its answer) when its module exports the handler that
bind() returns: export const getUser = bind("/user/<int:id>", ...).

options:
  -o, --out FILE        write the table to FILE, a .ts file (default: stdout)
  --allow-js            type the handlers of JavaScript modules too (a tsconfig
                        with allowJs reads their types; without it, a type
                        reference to a .js module does not compile)
  -h, --help            this help
`;

/** The specifier that imports `url` from a file in `dir`: `./routes.js` for routes.ts, a package's name as is. */
function specifier(spec: string, url: string, dir: string): string {
  if (!url.startsWith("file:") || !/^[./]|\.[cm]?[jt]sx?$/.test(spec)) return spec;
  let path = relative(dir, fileURLToPath(url)).split("\\").join("/");
  path = path
    .replace(/\.ts$/, ".js")
    .replace(/\.mts$/, ".mjs")
    .replace(/\.cts$/, ".cjs")
    .replace(/\.tsx$/, ".js");
  return path.startsWith(".") ? path : `./${path}`;
}

/**
 * Runs `usrv types`.
 *
 * @example
 * await typesCommand(["routes.ts", "-o", "api.ts"]); // 0
 */
export async function typesCommand(args: string[]): Promise<number> {
  const got = await loadForCommand("usrv types", USAGE, () => parse(args));
  if (typeof got === "number") return got;
  const { values, positionals, app } = got;
  if (typeof app.router?.entries !== "function") {
    throw new UsageError(
      "usrv types: the app these modules export comes from a usrv without router.entries()",
    );
  }
  const dir = values.out === undefined ? process.cwd() : dirname(resolve(values.out));
  // each handler's export, by identity: the modules are cached, this import runs nothing again
  const names = new Map<unknown, { module: string; name: string }>();
  for (const spec of positionals) {
    const url = locate(spec, process.cwd());
    if (!values["allow-js"] && !/\.[cm]?tsx?$/.test(new URL(url).pathname)) continue;
    const exports = (await import(url)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value === "function" && !names.has(value)) {
        names.set(value, { module: specifier(spec, url, dir), name });
      }
    }
  }
  const routes: TypedRoute[] = app.router.entries().map(([method, route]: [string, Route]) => ({
    method,
    pattern: route.pattern,
    handler: names.get(route.fn) ?? null,
  }));
  const other = routes.filter((r) => !CLIENT_METHODS.has(r.method)).map((r) => `${r.method} ${r.pattern}`);
  if (other.length > 0) {
    process.stderr.write(
      `usrv types: left out, the client has no property for their method (call client.endpoint(method)): ${other.join(", ")}\n`,
    );
  }
  const typed = routes.filter((r) => CLIENT_METHODS.has(r.method));
  const untyped = typed.filter((r) => r.handler === null).length;
  if (untyped > 0) {
    process.stderr.write(
      `usrv types: ${untyped} of ${typed.length} routes have a handler no TypeScript module exports: their values and answers are untyped (export what bind() returns to type them; --allow-js for JavaScript modules)\n`,
    );
  }
  const text = routeTypes(
    routes,
    // a line break in an argument would end the comment: the rest would be code
    `// Written by \`usrv types ${positionals.join(" ").replace(/[\r\n\u2028\u2029]/g, " ")}\`: do not edit, run it again when the routes change.\n`,
  );
  emit(values.out, text);
  return 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string", short: "o" },
      "allow-js": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

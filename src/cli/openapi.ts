/**
 * `usrv openapi BINDINGS...`: the OpenAPI 3.1 document of binding modules,
 * as `usrv serve` would serve them (the same loader), on stdout or into a
 * file. Nothing listens. Exit 0, 1 on an error, 2 on a usage error.
 */
import { parseArgs } from "node:util";
import type { OpenAPIOptions } from "../app/openapi.js";
import { emit, loadForCommand } from "./bindings-command.js";
import { UsageError } from "./errors.js";

const USAGE = `usage: usrv openapi [options] BINDINGS...

  BINDINGS              binding modules, as for usrv serve (files or packages, .js or .ts)

options:
  -o, --out FILE        write the document to FILE (default: stdout)
  --title TEXT          info.title (default "usrv app")
  --api-version TEXT    info.version, the API's own (default "0.0.0")
  --server URL          a servers[] entry; repeat for more
  -h, --help            this help
`;

/**
 * Runs `usrv openapi`.
 *
 * @example
 * await openapiCommand(["routes.mjs", "--title", "Shop", "-o", "openapi.json"]); // 0
 */
export async function openapiCommand(args: string[]): Promise<number> {
  const got = await loadForCommand("usrv openapi", USAGE, () => parse(args));
  if (typeof got === "number") return got;
  const { values, app } = got;
  if (typeof app.openapi !== "function") {
    throw new UsageError("usrv openapi: the app these modules export comes from a usrv without openapi()");
  }
  const options: OpenAPIOptions = {};
  if (values.title !== undefined) options.title = values.title;
  if (values["api-version"] !== undefined) options.version = values["api-version"];
  if (values.server !== undefined) options.servers = values.server.map((url) => ({ url }));
  const text = `${JSON.stringify(await app.openapi(options), null, 2)}\n`;
  emit(values.out, text);
  return 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string", short: "o" },
      title: { type: "string" },
      "api-version": { type: "string" },
      server: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
}

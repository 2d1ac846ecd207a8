/**
 * S3: loads binding modules (files or package names, JavaScript or
 * TypeScript) into the default app, all or nothing: a module that fails is
 * named in a one-line error and the server does not start half-bound.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { App } from "../app.js";
import { EndpointAlreadyDefined } from "../errors.js";
import { UsageError } from "./errors.js";

const TS = new Set([".ts", ".mts", ".cts", ".tsx"]);
let tsReady: Promise<void> | undefined;

/** TypeScript without a build step: native stripping where Node has it, tsx elsewhere. */
function enableTypeScript(): Promise<void> {
  return (tsReady ??= (async () => {
    if ((process.features as { typescript?: string }).typescript) return;
    const [{ register: esm }, { register: cjs }] = await Promise.all([
      import("tsx/esm/api"),
      import("tsx/cjs/api"),
    ]);
    esm();
    cjs();
  })());
}

function isPath(spec: string): boolean {
  return spec.startsWith(".") || spec.startsWith("/") || /\.[cm]?[jt]sx?$/.test(spec) || existsSync(spec);
}

/** The URL to import for one BINDING, or a UsageError. */
function locate(spec: string, cwd: string): string {
  if (isPath(spec)) {
    const file = resolve(cwd, spec);
    if (!existsSync(file)) throw new UsageError(`usrv serve: binding module not found: ${spec}`);
    return pathToFileURL(file).href;
  }
  try {
    return pathToFileURL(createRequire(resolve(cwd, "noop.js")).resolve(spec)).href;
  } catch {
    throw new UsageError(
      `usrv serve: binding package not found: ${spec} (not a file, not installed from ${cwd})`,
    );
  }
}

/**
 * Imports every binding module; their top level calls `bind` on `app`.
 * Returns which module bound which route, for the startup banner.
 */
export async function loadBindings(
  app: App,
  specs: string[],
  cwd = process.cwd(),
): Promise<Map<string, string>> {
  const owner = new Map<string, string>(); // "GET /x" -> module
  for (const spec of specs) {
    const url = locate(spec, cwd);
    if (TS.has(extname(new URL(url).pathname))) await enableTypeScript();
    const before = new Set(app.router.routes().map(([m, p]) => `${m} ${p}`));
    try {
      await import(url);
    } catch (e) {
      if (e instanceof EndpointAlreadyDefined) {
        const m = /^\[usrv\] (\S+) (\S+) is already bound/.exec(e.message);
        const first = m ? owner.get(`${m[1]} ${m[2]}`) : undefined;
        throw new UsageError(
          `usrv serve: ${m ? `${m[1]} ${m[2]}` : "a route"} is bound by both ${first ?? "an earlier module"} and ${spec}`,
        );
      }
      const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
      throw new UsageError(`usrv serve: cannot load ${spec}: ${why}`);
    }
    for (const [m, p] of app.router.routes()) if (!before.has(`${m} ${p}`)) owner.set(`${m} ${p}`, spec);
  }
  return owner;
}

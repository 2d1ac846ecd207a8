/**
 * S3: loads binding modules (files or package names, JavaScript or
 * TypeScript) into the default app, all or nothing: a module that fails is
 * named in a one-line error and the server does not start half-bound.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { App } from "../app/app.js";
import { EndpointAlreadyDefined } from "../common/errors.js";
import { importPeer } from "../common/peer.js";
import { debugging, requirePeer, UsageError } from "./errors.js";
import { explainLoadError } from "./load-error.js";

const TS = new Set([".ts", ".mts", ".cts", ".tsx"]);
let tsReady: Promise<void> | undefined;

/** TypeScript without a build step: native stripping where Node has it, tsx elsewhere. */
function enableTypeScript(): Promise<void> {
  return (tsReady ??= (async () => {
    if ((process.features as { typescript?: string }).typescript) return;
    const feature = `a TypeScript binding module on Node ${process.versions.node} (no built-in type stripping)`;
    const [{ register: esm }, { register: cjs }] = await requirePeer(
      Promise.all([
        importPeer("tsx", feature, () => import("tsx/esm/api")),
        importPeer("tsx", feature, () => import("tsx/cjs/api")),
      ]),
    ).catch((e) => {
      tsReady = undefined;
      throw e;
    });
    esm();
    cjs();
  })());
}

function isPath(spec: string): boolean {
  return spec.startsWith(".") || spec.startsWith("/") || /\.[cm]?[jt]sx?$/.test(spec) || existsSync(spec);
}

/** The URL to import for one BINDING, or a UsageError. */
export function locate(spec: string, cwd: string): string {
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

/** What the binding modules give `usrv serve`. */
export interface Loaded {
  /** The app to serve: `main` (where `bind` binds), or the app a module exports by default. */
  app: App;
  /** Which module bound which route ("GET /x" -> module), for the start-up banner. */
  owners: Map<string, string>;
  /** One line per module that binds nothing, for stderr. */
  warnings: string[];
}

/** A usrv App, even from another copy of usrv than this command's (duck-typed). */
function isApp(value: unknown): value is App {
  const app = value as App | null | undefined;
  return (
    typeof app === "object" &&
    app !== null &&
    typeof app.run === "function" &&
    typeof app.listener === "function" &&
    typeof app.router?.routes === "function"
  );
}

const keys = (app: App) => app.router.routes().map(([m, p]) => `${m} ${p}`);

// Node 20 rejects a second promise, unhandled, with the very error import()
// rejected with when an ES module imports a CommonJS file that does not
// parse: that error is reported already, as one line.
const reported = new WeakSet<object>();
let watching = false;
function reportedOnce(e: unknown): void {
  if (typeof e !== "object" || e === null) return;
  reported.add(e);
  if (watching) return;
  watching = true;
  process.on("unhandledRejection", (reason) => {
    if (typeof reason === "object" && reason !== null && reported.has(reason)) return;
    throw reason; // what Node does without a handler
  });
}

/**
 * Imports every binding module. Their top level calls `bind`, which binds on
 * `main` (the default app); a module that binds nothing there and exports an
 * App by default (`export default app`) has that app served instead, and a
 * module that does neither is warned about.
 *
 * @example
 * const { app, owners, warnings } = await loadBindings(["routes.mjs", "admin.ts"], defaultApp());
 */
export async function loadBindings(specs: string[], main: App, cwd = process.cwd()): Promise<Loaded> {
  const owners = new Map<string, string>(); // "GET /x" -> module, on main
  const warnings: string[] = [];
  const binders: string[] = []; // modules that bound on main
  let exported: { app: App; by: string } | undefined;
  for (const spec of specs) {
    const url = locate(spec, cwd);
    if (TS.has(extname(new URL(url).pathname))) await enableTypeScript();
    const before = new Set(keys(main));
    let module: { default?: unknown };
    try {
      module = await import(url);
    } catch (e) {
      if (e instanceof EndpointAlreadyDefined) {
        const m = /^\[usrv\] (\S+) (\S+) is already bound/.exec(e.message);
        const first = m ? owners.get(`${m[1]} ${m[2]}`) : undefined;
        throw new UsageError(
          `usrv serve: ${m ? `${m[1]} ${m[2]}` : "a route"} is bound by both ${first ?? "an earlier module"} and ${spec}`,
        );
      }
      reportedOnce(e);
      const stack = debugging() && e instanceof Error ? `\n${e.stack}` : "";
      throw new UsageError(
        `usrv serve: cannot load ${spec}: ${explainLoadError(e, fileURLToPath(url))}${stack}`,
      );
    }
    const added = keys(main).filter((k) => !before.has(k));
    for (const k of added) owners.set(k, spec);
    if (added.length > 0) binders.push(spec);
    const app = module.default;
    if (isApp(app) && app !== main) {
      if (exported)
        throw new UsageError(
          `usrv serve: ${exported.by} and ${spec} each export an app: one server serves one app (bind on the default app to combine modules)`,
        );
      exported = { app, by: spec };
      if (keys(app).length === 0) warnings.push(`usrv serve: warning: the app ${spec} exports has no route`);
    } else if (added.length === 0) {
      warnings.push(
        `usrv serve: warning: ${spec} binds no route: call bind() from "usrv" at its top level, or export default the app you made with createApp()`,
      );
    }
  }
  if (!exported) return { app: main, owners, warnings };
  if (binders.length > 0)
    throw new UsageError(
      `usrv serve: ${exported.by} exports its own app, so the routes ${binders[0]} binds with bind() would not be served: bind them on that app, or serve the modules apart`,
    );
  const { app, by } = exported;
  return { app, owners: new Map(keys(app).map((k) => [k, by])), warnings };
}

/**
 * usrv: bind a plain function to a path, return `[status, ...values]`, get JSON.
 *
 * @example
 * import { bind, run } from "usrv";
 * bind("/test", ({ a, b }) => [200, a, b]);
 * const server = await run({ host: "127.0.0.1", port: 5000 });
 */

import { App, type Bind } from "./app/app.js";
import type { RunOptions, ServerHandle, ServerOf } from "./faces/serve.js";

export {
  App,
  type AppOptions,
  type Bind,
  createApp,
  DEFAULT_BODY_LIMIT,
  type GroupOptions,
} from "./app/app.js";
export type { Group } from "./app/group.js";
export type {
  Answer,
  BeforeHandle,
  HookOutcome,
  Hooks,
  NotFound,
  OnError,
  OnRequest,
  OnResponse,
} from "./app/hooks.js";
export {
  type CodedError,
  type CodedErrorClass,
  type DefineErrorsOptions,
  defineErrors,
  type ErrorDetails,
} from "./common/define-errors.js";
export {
  BindError,
  EndpointAlreadyDefined,
  ERRORS,
  type ErrorCode,
  HttpError,
  type HttpErrorOptions,
} from "./common/errors.js";
export { ConsoleLogger, type Logger, parseLevel } from "./common/log.js";
export type { StandardSchemaV1 } from "./common/standard-schema.js";
export type {
  BindOptions,
  Bound,
  Context,
  ConverterTypes,
  ObjectHandler,
  PathParams,
  PositionalHandler,
  RequestHeaders,
  RequestValues,
  Result,
  SpooledFile,
  State,
  UploadedFile,
  UploadOptions,
  Values,
  ValuesOf,
} from "./common/types.js";
export { type Converter, registerConverter } from "./core/converters.js";
export type { CookieOptions } from "./core/cookies.js";
export { setParamParser } from "./core/params.js";
export { Router } from "./core/router.js";
export type { RunOptions, ServerHandle, ServerOf } from "./faces/serve.js";
export {
  MemoryReplayStore,
  type MemoryReplayStoreOptions,
  type ReplayStore,
  type ReplayWindow,
} from "./stores/replay.js";
export type { WsHandlers, WsOptions, WsSocket } from "./ws/types.js";

// One registry per process, as the seed's: kept on globalThis so that two
// copies of usrv (say, one transpiled to CommonJS by a TypeScript loader)
// still bind into the same app.
const MAIN = Symbol.for("usrv.defaultApp");

/** The app behind the module-level `bind` and `run`, as the seed's global registry. */
export function defaultApp(): App {
  const g = globalThis as { [MAIN]?: App };
  return (g[MAIN] ??= new App());
}

/**
 * Binds a function to a path on the default app.
 *
 * @example
 * bind("/<int:b>/<a>", ({ a, b }) => [200, a, b]); // b: number, a: string
 */
export const bind: Bind = ((...args: Parameters<App["bind"]>) => defaultApp().bind(...args)) as Bind;

/**
 * Serves the default app (S1).
 *
 * @example
 * const server = await run({ host: "127.0.0.1", port: 5000, logLevel: 20 });
 */
export function run<O extends RunOptions = {}>(options?: O): Promise<ServerHandle<ServerOf<O>>> {
  return defaultApp().run(options);
}

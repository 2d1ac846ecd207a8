/**
 * usrv: bind a plain function to a path, return `[status, ...values]`, get JSON.
 *
 * @example
 * import { bind, run } from "usrv";
 * bind("/test", ({ a, b }) => [200, a, b]);
 * const server = await run({ host: "127.0.0.1", port: 5000 });
 */

import type { RunOptions, ServerHandle } from "./adapter/serve.js";
import { App, type Bind } from "./app.js";

export type { RunOptions, ServerHandle } from "./adapter/serve.js";
export { App, type AppOptions, type Bind, createApp, DEFAULT_BODY_LIMIT } from "./app.js";
export { type Converter, registerConverter } from "./converters.js";
export { BindError, EndpointAlreadyDefined, ERRORS, type ErrorCode, HttpError } from "./errors.js";
export { ConsoleLogger, type Logger, parseLevel } from "./log.js";
export { Router } from "./router.js";
export type {
  BindOptions,
  Context,
  ConverterTypes,
  Headers,
  ObjectHandler,
  PathParams,
  PositionalHandler,
  RequestValues,
  Result,
  UploadedFile,
  Values,
} from "./types.js";

let main: App | undefined;

/** The app behind the module-level `bind` and `run`, as the seed's global registry. */
export function defaultApp(): App {
  return (main ??= new App());
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
export function run(options?: RunOptions): Promise<ServerHandle> {
  return defaultApp().run(options);
}

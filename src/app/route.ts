/** A bound function as the router stores it, compiled at bind time (app.ts). */
import type { BodyShape } from "../core/body.js";
import type { CookieKeys } from "../core/cookies.js";
import type { Shape } from "../core/params.js";
import type { RouteSchemas } from "../core/validate.js";
import type { Scope } from "./hooks.js";

/** The limits of spooled uploads (`bind`'s `uploads`, with its defaults). */
export interface UploadLimits {
  readonly dir: string | undefined;
  readonly maxFileSize: number;
  readonly maxFiles: number;
  readonly maxTotal: number;
}

/** A bound function, compiled at bind time. */
export interface Route {
  method: string;
  pattern: string;
  /** "GET /user/<int:id>", for messages and logs. */
  label: string;
  fn: Function;
  shape: Shape;
  bodyLimit: number;
  /** Most keys and nesting of a form or JSON body (`maxKeys`, `maxDepth`). */
  bodyShape: BodyShape;
  /** ms an async handler may take before a 503 */
  timeout: number;
  /** true: v1 or v2 sealed requests only; "v2": v2 only. */
  encrypted: boolean | "v2";
  /** The app's keys for signed cookies (`cookieKeys`): the first signs, all verify. */
  cookieKeys: CookieKeys;
  /** The app's or group's hooks (`scope.chains.plain`: none). */
  scope: Scope;
  /** Takes the sender's key in canonical form (`canonicalKey`), proven by its signature. */
  allow: ((publicKey: string) => boolean) | null;
  /**
   * How the body comes in when not read whole before the handler:
   * `"stream"` (`ctx.stream`) or the limits of spooled uploads; `null`: read whole.
   */
  intake: "stream" | UploadLimits | null;
  /** The schemas of its inputs (and answers, when the app checks them), `null` when none. */
  schemas: RouteSchemas | null;
}

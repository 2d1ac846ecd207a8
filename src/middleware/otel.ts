/**
 * OpenTelemetry for usrv (`usrv/otel`): one server span per request, named
 * by its route pattern (`GET /user/<int:id>`), made by hooks, so an app
 * without them pays nothing. `@opentelemetry/api` is an optional peer
 * dependency, loaded when `tracing()` is called.
 *
 * @example
 * import { tracing } from "usrv/otel";
 * const app = createApp({ hooks: await tracing() }); // spans go to the SDK you registered
 */
import type { Span, Tracer } from "@opentelemetry/api";
import type { Hooks } from "../app/hooks.js";
import { HttpError } from "../common/errors.js";
import { knownKeys } from "../common/known-keys.js";
import type { Context } from "../common/types.js";

/** Options of `tracing`. */
export interface TracingOptions {
  /** The tracer to use (default: the global provider's tracer named "usrv"). */
  tracer?: Tracer;
}

const spans = new WeakMap<Context, Span>();

/**
 * The request's span, for a handler that makes its own spans under it
 * (`trace.setSpan(context.active(), spanOf(ctx))`); undefined without `tracing`.
 */
export function spanOf(ctx: Context): Span | undefined {
  return spans.get(ctx);
}

/**
 * Hooks that make a server span per request: started in `onRequest` with the
 * parent the request's `traceparent` names (through the registered
 * propagator), given `http.request.method`, `url.path`, `http.route`,
 * `usrv.request_id`, an exception event for what was thrown and for a 5xx
 * (`onError`: not for usrv's 4xx answers), and `http.response.status_code`
 * and an error status for a 5xx (`onResponse`), where it ends, a timeout's
 * 503 included. Put them first: a hook that answers before them leaves no span.
 *
 * @example
 * app.group("/api", { hooks: await tracing() }, (api) => { ... });
 */
export async function tracing(options: TracingOptions = {}): Promise<Hooks> {
  knownKeys("tracing", options, ["tracer"]);
  let api: typeof import("@opentelemetry/api");
  try {
    api = await import("@opentelemetry/api");
  } catch {
    throw new Error("[usrv] usrv/otel needs @opentelemetry/api: npm install @opentelemetry/api");
  }
  const { context, propagation, SpanKind, SpanStatusCode, trace } = api;
  const tracer = options.tracer ?? trace.getTracer("usrv");
  const getter = {
    keys: (carrier: Context["headers"]) => Object.keys(carrier),
    get: (carrier: Context["headers"], key: string) => carrier[key],
  };
  return {
    onRequest(ctx) {
      const parent = propagation.extract(context.active(), ctx.headers, getter);
      const attributes: Record<string, string> = {
        "http.request.method": ctx.method,
        "url.path": ctx.path,
        "usrv.request_id": ctx.requestId,
      };
      if (ctx.route !== null) attributes["http.route"] = ctx.route;
      const name = ctx.route === null ? ctx.method : `${ctx.method} ${ctx.route}`;
      spans.set(ctx, tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent));
    },
    onError(error, ctx) {
      const span = spans.get(ctx);
      // usrv's own 4xx (a 404, a handler's [401]) is an answer, not an exception
      if (span === undefined || !(error instanceof Error)) return;
      if (!(error instanceof HttpError) || error.status >= 500) span.recordException(error);
    },
    onResponse(answer, ctx) {
      const span = spans.get(ctx);
      if (span === undefined) return;
      span.setAttribute("http.response.status_code", answer.status);
      if (answer.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

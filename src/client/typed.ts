/**
 * A client typed from the server's bindings, through a flat table that
 * `usrv types BINDINGS` writes: each route's property path, positional
 * arguments and handler (`typeof import("./routes.js").getUser`) are spelled
 * out there, so the checker reads a route's types instead of inferring a
 * whole app's (the cost that grows with Hono's `hc`). Types only, but for
 * `attempt`; the calls are the ordinary builder's, the wire is unchanged.
 */
import type { ErrorCode } from "../common/errors.js";
import type { StandardSchemaV1 } from "../common/standard-schema.js";
import type { Client } from "./client.js";
import { ClientHttpError } from "./errors.js";
import type { CallOptions, FullAnswer } from "./options.js";

/** The methods whose values go to the query; the others send them as the body. */
type QueryMethod = "GET" | "HEAD" | "DELETE" | "OPTIONS" | "TRACE";

/** The options a handler's type was bound with (`Bound`), or `never` for an untyped one. */
type OptionsOf<H> = H extends { readonly "~usrv"?: { readonly options: infer O } } ? O : never;
type Answer<H> = H extends (...args: any[]) => infer R ? Awaited<R> : unknown;
type Input<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : never;

/** The values a route takes: its query (or body) schema's input, else any object. */
type ValuesIn<M, O> = [O] extends [never]
  ? object
  : M extends QueryMethod
    ? O extends { query: StandardSchemaV1 }
      ? Input<O["query"]>
      : object
    : O extends { body: StandardSchemaV1 }
      ? Input<O["body"]>
      : object;

/** `[...segments, values, options]`, the values optional when the route has no schema for them. */
type Args<Segments extends readonly unknown[], V, Opt> = undefined extends V
  ? [...Segments, values?: V, options?: Opt]
  : object extends V
    ? [...Segments, values?: V, options?: Opt]
    : [...Segments, values: V, options?: Opt];

/** `[status, ...values]` is an error answer from 400 on. */
type IsError<S> = `${S & number}` extends `4${string}` | `5${string}` ? true : false;
// Indexed access, not `infer`: every tuple inferred is a new Array instantiation, and the
// checker's memory grows with them (bench/types.mjs).
type Payload<R extends readonly unknown[]> = R["length"] extends 1
  ? null
  : R["length"] extends 2
    ? R[1]
    : R extends readonly [unknown, ...infer V]
      ? V
      : never;
type Data<R> = R extends readonly [number, ...unknown[]]
  ? number extends R[0]
    ? Payload<R>
    : IsError<R[0]> extends true
      ? never
      : R[0] extends 204 | 304
        ? null
        : Payload<R>
  : unknown;

/** What a route resolves to: the values of its 1xx-3xx answers as the client decodes them (R1). */
export type DataOf<M, H> = M extends "HEAD" ? null : Data<Answer<H>>;

/**
 * An answer with an error status, typed: `status`, `serverCode` and the
 * error body of a usrv server (`detail` holds the values a handler returned).
 */
export interface RouteHttpError<S extends number, C extends string | undefined, D> extends ClientHttpError {
  readonly status: S;
  readonly serverCode: C;
  readonly body: {
    readonly status: S;
    readonly error: string;
    readonly code: C;
    readonly message: string;
    readonly detail: D;
    readonly requestId: string;
  };
}

/** A handler's own error answers: `[404, "no such user"]` is a 404 `USRV_ERR_STATUS` whose detail is `"no such user"`. */
type HandlerErrors<H> = Errors<Answer<H>>;
type Errors<R> = R extends readonly [number, ...unknown[]]
  ? number extends R[0]
    ? RouteHttpError<number, "USRV_ERR_STATUS", unknown>
    : IsError<R[0]> extends true
      ? RouteHttpError<R[0], "USRV_ERR_STATUS", R["length"] extends 1 ? undefined : Payload<R>>
      : never
  : never;

/** One issue of a 400 `USRV_ERR_VALIDATION`, as the server lists them. */
export interface ValidationIssue {
  readonly in: "params" | "query" | "headers" | "body";
  readonly path: readonly (string | number)[];
  readonly message: string;
}

type SchemaErrors<O> = [O] extends [never]
  ? never
  : O extends
        | { params: StandardSchemaV1 }
        | { query: StandardSchemaV1 }
        | { body: StandardSchemaV1 }
        | { headers: StandardSchemaV1 }
    ? RouteHttpError<
        400,
        "USRV_ERR_VALIDATION",
        { readonly issues: readonly ValidationIssue[]; readonly more?: number }
      >
    : never;

type UsrvCode = Exclude<ErrorCode, "USRV_ERR_STATUS" | "USRV_ERR_VALIDATION">;
/**
 * usrv's own errors, which any route may answer (a bad request, a timeout, a
 * hook's refusal...); `serverCode` `undefined`: not a usrv body (a proxy's).
 * One member, not one per code: a union of thirty members in every route's
 * type costs the checker memory for nothing a `serverCode` test needs.
 */
export type UsrvHttpError = RouteHttpError<number, UsrvCode | undefined, unknown>;

/**
 * Every error answer a route is typed with: the handler's returned error
 * statuses (`USRV_ERR_STATUS`, by status), `USRV_ERR_VALIDATION` when it has
 * input schemas, and usrv's own codes. A status a handler throws as an
 * `HttpError`, or a hook answers, is not in it: return it to type it.
 */
export type ErrorOf<H> = HandlerErrors<H> | SchemaErrors<OptionsOf<H>> | UsrvHttpError;

/**
 * A typed call's promise: it resolves to the route's data, and carries its
 * errors' type (a type only) for {@link attempt}.
 */
export type RoutePromise<T, E> = Promise<T> & { readonly "~errors"?: E };

/**
 * One route of a generated table: `Segments` are its positional arguments
 * (the path from its first markup on: `[id: number]`, `[id: number, "posts"]`),
 * `H` its handler's type (`unknown` when the module does not export it: the
 * values and the answer are then untyped).
 */
export interface TypedCall<M extends string, Segments extends readonly unknown[], H> {
  (
    ...args: Args<Segments, ValuesIn<M, OptionsOf<H>>, CallOptions & { full?: false }>
  ): RoutePromise<DataOf<M, H>, ErrorOf<H>>;
  (
    ...args: [
      ...Segments,
      values: ValuesIn<M, OptionsOf<H>> | undefined,
      options: CallOptions & { full: true },
    ]
  ): RoutePromise<FullAnswer<DataOf<M, H>>, ErrorOf<H>>;
  (
    ...args: Args<Segments, ValuesIn<M, OptionsOf<H>>, CallOptions>
  ): RoutePromise<DataOf<M, H> | FullAnswer<DataOf<M, H>>, ErrorOf<H>>;
}

/** A route table: per method, property paths to calls (what `usrv types` writes). */
export type RouteTable = object;

/**
 * A client whose `GET`, `POST`... are typed by the table `T` of `usrv types`;
 * a method with no route is absent. `client.endpoint(method)` stays untyped.
 */
export type TypedClient<T extends RouteTable> = Omit<
  Client,
  "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS"
> &
  T;

/** What {@link attempt} resolves to. */
export type Attempt<T, E> =
  | { readonly ok: true; readonly data: T }
  | { readonly ok: false; readonly error: E };

/**
 * Awaits a call and gives its outcome as a value: `{ ok: true, data }`, or
 * for an error status `{ ok: false, error }`, the error typed by the route
 * (a discriminated union on `serverCode` and `status`). Other failures (the
 * network, a timeout, a bad signature) still reject.
 *
 * @example
 * const r = await attempt(client.GET.user(42));
 * if (r.ok) r.data.name;
 * else if (r.error.serverCode === "USRV_ERR_STATUS" && r.error.status === 404) r.error.body.detail; // "no such user"
 */
export async function attempt<T, E>(call: RoutePromise<T, E>): Promise<Attempt<T, E>> {
  try {
    return { ok: true, data: await call };
  } catch (err) {
    if (err instanceof ClientHttpError) return { ok: false, error: err as E };
    throw err;
  }
}

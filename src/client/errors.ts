/**
 * Errors of the client: one class with stable codes, and its subclass for
 * answers with an error status (C4), which carries the status, the server's
 * own error code (`USRV_ERR_...` from a usrv server's JSON error body) and
 * the decoded body.
 */
import { defineErrors } from "../common/define-errors.js";

/** Every code a {@link ClientError} can carry, with what it means. */
export const CLIENT_ERRORS = {
  USRV_ERR_CLIENT_NO_PEER: "no peer to reach: pass { peer } or connect(peer) first",
  USRV_ERR_CLIENT_BAD_PEER: "the peer is not an absolute http(s) URL",
  USRV_ERR_CLIENT_BAD_SEGMENT:
    'an endpoint name or positional argument is not a valid path segment (empty, ".", "..", or holds "/")',
  USRV_ERR_CLIENT_BAD_ARGUMENT: "an argument or option has the wrong type or value",
  USRV_ERR_CLIENT_BAD_KEY: "a public key (puk, Sender-Public-Key) is not base64 of a point on secp256k1",
  USRV_ERR_CLIENT_UNREACHABLE: "the peer could not be reached (refused, reset, DNS, TLS)",
  USRV_ERR_CLIENT_TIMEOUT: "no complete answer within the timeout",
  USRV_ERR_CLIENT_ABORTED: "the caller's signal aborted the request",
  USRV_ERR_CLIENT_TOO_LARGE:
    "the answer's body (its Content-Length, or the bytes read, decoded) is over maxBodySize (default 64 MiB)",
  USRV_ERR_CLIENT_BAD_BODY:
    "the answer's body does not decode under its Content-Type (JSON, UTF-8, multipart)",
  USRV_ERR_CLIENT_BAD_SIGNATURE:
    "an answer claims encryption but its headers or signature do not verify against the expected server key",
  USRV_ERR_CLIENT_NOT_ENCRYPTED: "an encrypted answer was asked for (puk) and a plaintext body came back",
  USRV_ERR_CLIENT_DECRYPT: "an answer signed by the server does not decrypt with the client's key",
  USRV_ERR_CLIENT_FILE: "a file to send cannot be read, or dump() refused a path",
  USRV_ERR_CLIENT_DUMP_LIMIT:
    "dump() refused a form over its maxParts (default 1000) or maxBytes (default 64 MiB): nothing was written",
  USRV_ERR_CLIENT_REDIRECT:
    'a redirect was not followed: to another origin (pass { redirect: "follow" }), hidden by the runtime (a browser), or past 20 hops',
  USRV_ERR_CLIENT_UNSUPPORTED:
    "the operation needs a platform feature this runtime lacks (a file system in a browser)",
  USRV_ERR_CLIENT_HTTP: "the server answered with an error status (>= 400)",
} as const satisfies Record<string, string>;

/** A stable client error code, e.g. `USRV_ERR_CLIENT_TIMEOUT`. */
export type ClientErrorCode = keyof typeof CLIENT_ERRORS;

/**
 * The one error type of `usrv/client`: a stable `code` and a message that
 * says what to do.
 *
 * @example
 * try {
 *   await GET.api.endpoint({ a: 1 }, { timeout: 2000 });
 * } catch (err) {
 *   if (err instanceof ClientError && err.code === "USRV_ERR_CLIENT_TIMEOUT") retryLater();
 * }
 */
export class ClientError extends defineErrors<typeof CLIENT_ERRORS>("ClientError", CLIENT_ERRORS) {}

/**
 * An answer with status >= 400 (C4): never handed back as a value.
 * `serverCode` is the `code` field of a usrv server's JSON error body
 * (`USRV_ERR_NOT_FOUND`...), `undefined` for other servers.
 *
 * @example
 * try {
 *   await GET.nowhere();
 * } catch (err) {
 *   if (err instanceof ClientHttpError) console.log(err.status, err.serverCode, err.body); // 404 "USRV_ERR_NOT_FOUND" {...}
 * }
 */
export class ClientHttpError extends ClientError {
  /** The HTTP status, >= 400. */
  readonly status: number;
  /** The server's error code (`USRV_ERR_...`) when its body carries one. */
  readonly serverCode: string | undefined;
  /** The decoded body (decrypted first when it came encrypted), or its text when it does not decode. */
  readonly body: unknown;
  /** The answer's headers. */
  readonly headers: Headers;

  constructor(status: number, body: unknown, headers: Headers, label: string) {
    const fields = body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
    const serverCode = typeof fields.code === "string" ? fields.code : undefined;
    const said = typeof fields.message === "string" ? fields.message : typeof body === "string" ? body : "";
    super(
      "USRV_ERR_CLIENT_HTTP",
      `${label} answered ${status}${serverCode ? ` ${serverCode}` : ""}${said ? `: ${said.slice(0, 200)}` : ""}`,
    );
    this.name = "ClientHttpError";
    this.status = status;
    this.serverCode = serverCode;
    this.body = body;
    this.headers = headers;
  }
}

/**
 * P1: the errors of the Pinata plugin: one class, one table of stable codes.
 * Failures of the network (refused, timeout, aborted) stay the client's own
 * `ClientError` (`USRV_ERR_CLIENT_UNREACHABLE`...): they say nothing about
 * Pinata.
 */
import { ClientError, ClientHttpError } from "../client/index.js";
import { defineErrors } from "../common/define-errors.js";

/** Every code a {@link PinataError} can carry, with what it means. */
export const PINATA_ERRORS = {
  USRV_ERR_PINATA_NO_TOKEN: "no JWT to send: call link(jwt) first",
  USRV_ERR_PINATA_BAD_ARGUMENT:
    "an argument has the wrong type or value (name, network, id, keyvalues, options)",
  USRV_ERR_PINATA_FILE: "the file to upload cannot be read (missing, or not a regular file)",
  USRV_ERR_PINATA_UNAUTHORIZED: "Pinata refused the JWT (401 or 403)",
  USRV_ERR_PINATA_NOT_FOUND: "Pinata knows no such pin or file (404)",
  USRV_ERR_PINATA_API: "Pinata answered another error status (see status and reason)",
  USRV_ERR_PINATA_BAD_ANSWER: "a success answer is not the JSON Pinata's API documents",
} as const satisfies Record<string, string>;

/** A stable Pinata error code, e.g. `USRV_ERR_PINATA_UNAUTHORIZED`. */
export type PinataErrorCode = keyof typeof PINATA_ERRORS;

/** What an error may carry besides its code and message. */
export interface PinataErrorDetails {
  /** The HTTP status of Pinata's answer. */
  status?: number | undefined;
  /** Pinata's own reason: `error.reason` (legacy API) or `error.message` (v3 API). */
  reason?: string | undefined;
  /** The decoded body of Pinata's answer. */
  body?: unknown;
  cause?: unknown;
}

/**
 * The one error type of `usrv/plugins/pinata`: a stable `code`, and for
 * Pinata's answers the `status`, Pinata's `reason` and the decoded `body`.
 * Messages never hold the JWT.
 *
 * @example
 * try {
 *   await pinata.legacy.pinFile("a.png", "./a.png");
 * } catch (err) {
 *   if (err instanceof PinataError && err.code === "USRV_ERR_PINATA_UNAUTHORIZED") relink();
 * }
 */
export class PinataError extends defineErrors<typeof PINATA_ERRORS, Omit<PinataErrorDetails, "cause">>(
  "PinataError",
  PINATA_ERRORS,
  { prefix: "[usrv] pinata: " },
) {}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * Pinata's error answer as a {@link PinataError}: both shapes are read,
 * `{"error":{"reason","details"}}` (legacy) and `{"error":{"code","message"}}` (v3).
 *
 * @example
 * fromAnswer(err, "POST /pinning/pinFileToIPFS"); // PinataError USRV_ERR_PINATA_UNAUTHORIZED, reason "INVALID_CREDENTIALS"
 */
export function fromAnswer(err: ClientHttpError, label: string): PinataError {
  const error = field(err.body, "error");
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const reason = text(error) ?? text(field(error, "reason")) ?? text(field(error, "message"));
  const details = text(field(error, "details"));
  const code: PinataErrorCode =
    err.status === 401 || err.status === 403
      ? "USRV_ERR_PINATA_UNAUTHORIZED"
      : err.status === 404
        ? "USRV_ERR_PINATA_NOT_FOUND"
        : "USRV_ERR_PINATA_API";
  const said = [reason, details].filter(Boolean).join(": ").slice(0, 200);
  return new PinataError(code, `${label} answered ${err.status}${said ? ` ${said}` : ""}`, {
    status: err.status,
    reason,
    body: err.body,
    cause: err,
  });
}

/**
 * A failure of the client during a Pinata call, as the caller should see
 * it: error answers and bodies that do not decode become {@link PinataError},
 * an unreadable file `USRV_ERR_PINATA_FILE`; network failures stay as they are.
 *
 * @example
 * try { await client.call(...); } catch (e) { throw translate(e, "GET /data/testAuthentication"); }
 */
export function translate(err: unknown, label: string): unknown {
  if (err instanceof ClientHttpError) return fromAnswer(err, label);
  if (err instanceof ClientError && err.code === "USRV_ERR_CLIENT_BAD_BODY")
    return new PinataError("USRV_ERR_PINATA_BAD_ANSWER", `${label}: ${err.message}`, { cause: err });
  if (err instanceof ClientError && err.code === "USRV_ERR_CLIENT_FILE")
    return new PinataError("USRV_ERR_PINATA_FILE", `${label}: ${err.message}`, { cause: err });
  return err;
}

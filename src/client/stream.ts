/**
 * Steps 6-8 of `client.stream`: an answer read as it comes. A v2 answer in
 * sized records (docs/wire-v2.md, "Live answers") yields each record's
 * plaintext as soon as it opens, so each event of a usrv/stream answer
 * reaches the caller when the server sends it; a v2 answer in fixed records
 * yields each 64 KiB record; an answer in clear yields its chunks as they
 * come. A v1 answer (sealed whole) and an error status are read whole
 * (within `maxBodySize`) and go through the call's steps.
 */
import type { Keypair } from "../secp256k1/api.js";
import type { Opener } from "../secp256k1/records.js";
import { answer, openAnswer } from "./answer.js";
import { ClientError } from "./errors.js";
import { claimsEncryption } from "./seal.js";
import { openerV2, refused, sealedV2 } from "./seal-v2.js";
import type { Sealing } from "./sealing.js";
import { readAll, type SendOptions } from "./transport.js";

/**
 * An answer read as a stream: its head, and its body's chunks as an async
 * iterable (for a v2 answer in sized records, one chunk per record: one
 * event of usrv/stream). Leaving the loop, or `cancel()`, closes the
 * connection; a record that does not open ends the loop with
 * `USRV_ERR_CLIENT_DECRYPT`.
 */
export interface StreamedAnswer extends AsyncIterable<Uint8Array> {
  readonly status: number;
  readonly headers: Headers;
  /** Which encryption the answer came in: "v2", "v1", or null (plaintext). */
  readonly encryption: "v1" | "v2" | null;
  /** Stops reading and closes the connection. */
  cancel(): Promise<void>;
}

const NOTHING = new Uint8Array(0);

/** The opener's output, or `USRV_ERR_CLIENT_DECRYPT`. */
async function opening(step: Promise<Uint8Array[]>, status: number): Promise<Uint8Array[]> {
  try {
    return await step;
  } catch (cause) {
    throw refused(status, cause);
  }
}

/** Chunks through `opener`: each record's plaintext as it opens (empty ones skipped). */
async function* opened(
  opener: Opener,
  source: AsyncIterable<Uint8Array>,
  status: number,
): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const chunk of source) yield* nonEmpty(await opening(opener.push(chunk), status));
  yield* nonEmpty(await opening(opener.finish(), status));
}

function* nonEmpty(parts: Uint8Array[]): Generator<Uint8Array, void, undefined> {
  for (const part of parts) if (part.length > 0) yield part;
}

/**
 * The body's chunks as they come, the reader released (and the connection
 * closed) when the loop ends early; a connection lost mid-way is
 * `USRV_ERR_CLIENT_UNREACHABLE`.
 */
async function* chunks(
  body: ReadableStream<Uint8Array> | null,
  label: string,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (body === null) return;
  const reader = body.getReader();
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (cause) {
        throw new ClientError("USRV_ERR_CLIENT_UNREACHABLE", `${label}: the stream broke off`, { cause });
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** The answer's head and a source of its chunks. */
function streamed(
  response: Response,
  encryption: StreamedAnswer["encryption"],
  source: AsyncGenerator<Uint8Array, void, undefined>,
): StreamedAnswer {
  return {
    status: response.status,
    headers: response.headers,
    encryption,
    [Symbol.asyncIterator]: () => source,
    cancel: async () => {
      await source.return(undefined);
      // a source never started holds no reader: the body is cancelled here
      await response.body?.cancel().catch(() => undefined);
    },
  };
}

async function* once(plain: Uint8Array): AsyncGenerator<Uint8Array, void, undefined> {
  if (plain.length > 0) yield plain;
}

/**
 * 6-8 for a stream: the answer's head checked as the call's would be, its
 * body opened as it comes.
 *
 * @example
 * const answer = await streamAnswer(response, bytes, sealed, label, keypair, how);
 * for await (const event of answer) console.log(new TextDecoder().decode(event));
 */
export async function streamAnswer(
  response: Response,
  bytes: Uint8Array,
  s: Sealing,
  label: string,
  keypair: () => Promise<Keypair>,
  how: SendOptions,
): Promise<StreamedAnswer> {
  const { status, headers } = response;
  const v2 = s.v2;
  if (v2?.context !== undefined && status < 400) {
    if (!sealedV2(headers)) {
      response.body?.cancel().catch(() => undefined);
      return refuse(response, s, label, keypair); // unsealed: refused as the call refuses it
    }
    const { opener, record } = await openerV2(v2.ops, v2.context, status, headers, v2.sized);
    if (record === null)
      return streamed(response, "v2", opened(opener, chunks(response.body, label), status));
    response.body?.cancel().catch(() => undefined); // a bodiless answer: its one record in Usrv-Record
    return streamed(response, "v2", opened(opener, once(record), status));
  }
  if (s.puk === undefined && !claimsEncryption(headers) && status < 400) {
    return streamed(response, null, chunks(response.body, label));
  }
  // read whole: an error status (already read), a v1 answer
  const body = status < 400 ? await readAll(response, () => {}, how) : bytes;
  const open = await openAnswer(response, body, s, label, keypair);
  if (status >= 400) await answer(response, open, label, undefined); // throws the typed error
  return streamed(response, open.encryption, once(open.plain));
}

/** An unsealed 1xx-3xx answer to a v2 request: openAnswer refuses it (USRV_ERR_CLIENT_NOT_ENCRYPTED). */
async function refuse(
  response: Response,
  s: Sealing,
  label: string,
  keypair: () => Promise<Keypair>,
): Promise<never> {
  await openAnswer(response, NOTHING, s, label, keypair);
  throw new ClientError("USRV_ERR_CLIENT_NOT_ENCRYPTED", `${label}: the answer is not sealed: refused`);
}

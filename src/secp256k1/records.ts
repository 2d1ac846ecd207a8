/**
 * The record framing of v2 bodies (docs/wire-v2.md, after RFC 8188): the
 * plaintext is cut into records of exactly {@link RECORD_SIZE} bytes but the
 * last (0 to RECORD_SIZE bytes, so an empty body is one record); each record
 * seals `chunk || delimiter`, 0x01 when more records follow, 0x02 on the last.
 * A sealed record is the AEAD's output, 16 bytes longer than its plaintext.
 *
 * Both directions stream: a {@link Sealer} or {@link Opener} holds at most one
 * record. What seals or opens one record (and so which nonce it gets) is the
 * caller's: HPKE's sequence for requests, the response's own nonces for answers.
 */
import { CryptoError } from "./errors.js";

/** Plaintext bytes in every record but the last. */
export const RECORD_SIZE = 65_536;
/** The AEAD tag (AES-128-GCM). */
export const TAG_SIZE = 16;
/** Bytes on the wire of every record but the last: 65,553. */
export const SEALED_RECORD_SIZE = RECORD_SIZE + 1 + TAG_SIZE;
/** The smallest sealed record: an empty chunk, its delimiter, the tag. */
export const MIN_SEALED_RECORD = 1 + TAG_SIZE;

/** The delimiter of a record that more records follow. */
export const MORE = 0x01;
/** The delimiter of the last record. */
export const LAST = 0x02;

/**
 * Seals a body record by record. Call {@link Sealer.push} with the body's
 * bytes in any pieces, then {@link Sealer.finish} once; each returns the
 * sealed records ready, in order, to be sent as they come. Calls are
 * queued, so a push need not be awaited before the next one.
 */
export interface Sealer {
  /** Takes more plaintext; returns the records it completed (the last full one is held until more comes or finish). */
  push(bytes: Uint8Array): Promise<Uint8Array[]>;
  /** Seals what is held as the last record (an empty body gives one 17-byte record). */
  finish(): Promise<Uint8Array[]>;
}

/**
 * Opens a body record by record. Push the received bytes in any pieces, then
 * call {@link Opener.finish}; each returns the plaintext ready. Any failure is
 * a `CryptoError` `USRV_ERR_DECRYPT`, and every later call fails the same way.
 */
export interface Opener {
  /** Takes more sealed bytes; returns the plaintext of the records they completed. */
  push(bytes: Uint8Array): Promise<Uint8Array[]>;
  /** Ends the body: opens what is held as the last record; throws when the last record is missing. */
  finish(): Promise<Uint8Array[]>;
}

/** Seals one record's plaintext; called once per record, in order. */
export type SealRecord = (plaintext: Uint8Array) => Promise<Uint8Array>;
/** Opens one sealed record, `null` when it does not open; called once per record, in order. */
export type OpenRecord = (sealed: Uint8Array) => Promise<Uint8Array | null>;

/**
 * A queue for the calls of one sealer or opener: each runs after the previous
 * one settled; after a failure every later call rejects with the same error.
 */
export function serial() {
  let tail: Promise<unknown> = Promise.resolve();
  let failure: { error: unknown } | null = null;
  return <A extends unknown[]>(step: (...args: A) => Promise<Uint8Array[]>) =>
    (...args: A): Promise<Uint8Array[]> => {
      const run = tail.then(async () => {
        if (failure) throw failure.error;
        try {
          return await step(...args);
        } catch (error) {
          failure = { error };
          throw error;
        }
      });
      tail = run.catch(() => {});
      return run;
    };
}

/** The error of a sealer or opener used wrongly. */
export function misuse(message: string): CryptoError {
  return new CryptoError("USRV_ERR_BAD_ARGUMENT", message);
}

/** Refuses a chunk that is not bytes. */
export function checkBytes(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw misuse("records take Uint8Array chunks");
}

/**
 * A {@link Sealer} over `sealRecord`.
 *
 * @example
 * const sealer = createSealer((record) => context.seal(record, aad));
 * const records = [...(await sealer.push(body)), ...(await sealer.finish())];
 */
export function createSealer(sealRecord: SealRecord): Sealer {
  // the record being filled, with room for its delimiter; reused once sealed
  const record = new Uint8Array(RECORD_SIZE + 1);
  let filled = 0;
  let finished = false;
  const queued = serial();

  async function seal(delimiter: number): Promise<Uint8Array> {
    record[filled] = delimiter;
    const sealed = await sealRecord(record.subarray(0, filled + 1));
    filled = 0;
    return sealed;
  }

  return {
    push: queued(async (bytes: Uint8Array) => {
      checkBytes(bytes);
      if (finished) throw misuse("push() after finish()");
      const out: Uint8Array[] = [];
      let at = 0;
      while (at < bytes.length) {
        // a full record is sealed only once more bytes show it is not the last
        if (filled === RECORD_SIZE) out.push(await seal(MORE));
        const n = Math.min(RECORD_SIZE - filled, bytes.length - at);
        record.set(bytes.subarray(at, at + n), filled);
        filled += n;
        at += n;
      }
      return out;
    }),
    finish: queued(async () => {
      if (finished) throw misuse("finish() called twice");
      finished = true;
      return [await seal(LAST)];
    }),
  };
}

/** The error of a body that does not open. */
export function failed(reason: string): CryptoError {
  return new CryptoError("USRV_ERR_DECRYPT", `v2 body does not open: ${reason}`);
}

/** Opens records one after another, in order: their plaintext without the delimiter; `ended` once the 0x02 one opened. */
export interface RecordReader {
  open(sealed: Uint8Array): Promise<Uint8Array>;
  readonly ended: boolean;
}

/**
 * The part of an opener common to both framings: each record opened in its
 * place, its delimiter checked and taken off.
 */
export function recordReader(openRecord: OpenRecord): RecordReader {
  let index = 0;
  let ended = false;
  return {
    get ended() {
      return ended;
    },
    async open(sealed: Uint8Array): Promise<Uint8Array> {
      const plain = await openRecord(sealed);
      if (plain === null || plain.length === 0) throw failed(`record ${index} does not open`);
      index++;
      const delimiter = plain[plain.length - 1];
      if (delimiter === LAST) ended = true;
      else if (delimiter !== MORE) throw failed(`record ${index - 1} has a bad delimiter`);
      return plain.subarray(0, plain.length - 1);
    },
  };
}

/**
 * An {@link Opener} over `openRecord`: refuses a record that does not open, a
 * bad delimiter, a last record shorter than 17 bytes, a body that ends after a
 * 0x01 record (truncation) and any byte after the 0x02 record.
 *
 * @example
 * const opener = createOpener(async (sealed) => context.open(sealed, aad));
 * const chunks = [...(await opener.push(body)), ...(await opener.finish())];
 */
export function createOpener(openRecord: OpenRecord): Opener {
  const held = new Uint8Array(SEALED_RECORD_SIZE);
  let heldLength = 0;
  const reader = recordReader(openRecord);
  const open = reader.open;
  let finished = false;
  const queued = serial();

  return {
    push: queued(async (bytes: Uint8Array) => {
      checkBytes(bytes);
      if (finished) throw misuse("push() after finish()");
      const out: Uint8Array[] = [];
      let at = 0;
      while (at < bytes.length) {
        if (reader.ended) throw failed("data after the last record");
        if (heldLength === 0 && bytes.length - at >= SEALED_RECORD_SIZE) {
          // a whole record in the input: opened in place, no copy
          out.push(await open(bytes.subarray(at, at + SEALED_RECORD_SIZE)));
          at += SEALED_RECORD_SIZE;
          continue;
        }
        const n = Math.min(SEALED_RECORD_SIZE - heldLength, bytes.length - at);
        held.set(bytes.subarray(at, at + n), heldLength);
        heldLength += n;
        at += n;
        if (heldLength === SEALED_RECORD_SIZE) {
          heldLength = 0;
          out.push(await open(held));
        }
      }
      return out;
    }),
    finish: queued(async () => {
      if (finished) throw misuse("finish() called twice");
      finished = true;
      if (reader.ended) return [];
      if (heldLength === 0) throw failed("truncated (the last record is missing)");
      if (heldLength < MIN_SEALED_RECORD) throw failed(`last record shorter than ${MIN_SEALED_RECORD} bytes`);
      const chunk = await open(held.subarray(0, heldLength));
      if (!reader.ended) throw failed("truncated (the last record is missing)");
      return [chunk];
    }),
  };
}

/**
 * Length on the wire of a body of `length` plaintext bytes: one record per
 * started 65,536 bytes (at least one), each 17 bytes longer than its chunk.
 * Lets a sender announce a Content-Length before it streams.
 *
 * @example
 * sealedLength(0); // 17
 * sealedLength(65_537); // 65_571 (65,553 + 18)
 */
export function sealedLength(length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw misuse("length must be a non-negative integer");
  const records = Math.max(1, Math.ceil(length / RECORD_SIZE));
  return length + records * MIN_SEALED_RECORD;
}

/**
 * Runs a whole body through a sealer or an opener in one go.
 *
 * @example
 * const sealedBody = await runAll(records, new TextEncoder().encode('{"a":1}'));
 */
export async function runAll(stage: Sealer | Opener, body: Uint8Array): Promise<Uint8Array> {
  const parts = [...(await stage.push(body)), ...(await stage.finish())];
  return concat(parts);
}

/**
 * A sealer or an opener as a transform of byte streams: chunks in, records
 * (or plaintext) out as soon as they are complete, at most one record held.
 *
 * @example
 * for await (const record of transformRecords(records, file.stream())) socket.write(record);
 */
export async function* transformRecords(
  stage: Sealer | Opener,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const chunk of source) {
    for (const out of await stage.push(chunk)) yield out;
  }
  for (const out of await stage.finish()) yield out;
}

/**
 * {@link transformRecords} as a ReadableStream, pulled one output at a time
 * (the reader sets the pace); cancelling it ends the source's iteration,
 * which cancels a source stream.
 *
 * @example
 * new Response(recordStream(records, handlerResponse.body), { status, headers });
 */
export function recordStream(
  stage: Sealer | Opener,
  source: AsyncIterable<Uint8Array>,
): ReadableStream<Uint8Array> {
  const out = transformRecords(stage, source);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await out.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await out.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Sized records (docs/wire-v2.md, "Live answers: sized records"): the records
 * of records.ts, each preceded on the wire by its sealed length on
 * {@link LENGTH_SIZE} bytes (big-endian), so that a record may end before it
 * is full. A streamed answer is then sealed at every chunk its source gives
 * (an event of usrv/stream, a flush of a handler's Response) and reaches the
 * reader at once, where the fixed framing waits for 65,536 bytes.
 *
 * Nonces, associated data and delimiters are those of the fixed framing: a
 * record still opens only in its place, and only the 0x02 record ends the
 * body. The prefix is not authenticated by itself; a prefix that lies cuts the
 * records elsewhere, and a record cut elsewhere does not open.
 */
import {
  checkBytes,
  failed,
  LAST,
  MIN_SEALED_RECORD,
  MORE,
  misuse,
  type Opener,
  type OpenRecord,
  RECORD_SIZE,
  recordReader,
  SEALED_RECORD_SIZE,
  type Sealer,
  type SealRecord,
  serial,
} from "./records.js";

/** Bytes of the length before each sealed record: 3 (a uint24, as TLS's handshake lengths; 65,553 needs 17 bits). */
export const LENGTH_SIZE = 3;

/** The longest sized record on the wire: its prefix and the longest sealed record. */
export const MAX_SIZED_RECORD = LENGTH_SIZE + SEALED_RECORD_SIZE;

const EMPTY = new Uint8Array(0);

/** `sealed` preceded by its length on 3 bytes, big-endian. */
export function prefixed(sealed: Uint8Array): Uint8Array {
  const out = new Uint8Array(LENGTH_SIZE + sealed.length);
  out[0] = sealed.length >>> 16;
  out[1] = (sealed.length >>> 8) & 0xff;
  out[2] = sealed.length & 0xff;
  out.set(sealed, LENGTH_SIZE);
  return out;
}

/** The length a prefix announces, refused outside 17..65,553 (what a sealed record can measure). */
export function announcedLength(prefix: Uint8Array): number {
  const length = (prefix[0]! << 16) | (prefix[1]! << 8) | prefix[2]!;
  if (length < MIN_SEALED_RECORD || length > SEALED_RECORD_SIZE) {
    throw failed(
      `a record length of ${length} bytes (a record has ${MIN_SEALED_RECORD} to ${SEALED_RECORD_SIZE})`,
    );
  }
  return length;
}

/**
 * A {@link Sealer} that seals every pushed chunk at once, in records of at
 * most 65,536 plaintext bytes ended by 0x01, each preceded by its length;
 * `finish()` adds the last record, empty, ended by 0x02 (a chunk cannot be
 * known to be the last before the source ends, and holding it back would
 * delay it). An empty push seals nothing.
 *
 * @example
 * const sealer = createSizedSealer((record) => gcm.seal(nextNonce(), record, aad));
 * for (const event of events) socket.write(concat(await sealer.push(event)));
 */
export function createSizedSealer(sealRecord: SealRecord): Sealer {
  let finished = false;
  const queued = serial();

  async function seal(chunk: Uint8Array, delimiter: number): Promise<Uint8Array> {
    const record = new Uint8Array(chunk.length + 1);
    record.set(chunk, 0);
    record[chunk.length] = delimiter;
    return prefixed(await sealRecord(record));
  }

  return {
    push: queued(async (bytes: Uint8Array) => {
      checkBytes(bytes);
      if (finished) throw misuse("push() after finish()");
      const out: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += RECORD_SIZE) {
        out.push(await seal(bytes.subarray(at, at + RECORD_SIZE), MORE));
      }
      return out;
    }),
    finish: queued(async () => {
      if (finished) throw misuse("finish() called twice");
      finished = true;
      return [await seal(EMPTY, LAST)];
    }),
  };
}

/**
 * An {@link Opener} of sized records: holds at most one prefix and one record
 * (65,553 bytes), opens each record as soon as its last byte comes, and
 * refuses a length outside 17..65,553, a record that does not open (a lying
 * prefix included), a bad delimiter, a body that ends before the 0x02 record
 * or inside a prefix or a record, and any byte after the 0x02 record.
 *
 * @example
 * const opener = createSizedOpener((sealed) => gcm.open(nextNonce(), sealed, aad));
 * for await (const chunk of body) for (const event of await opener.push(chunk)) show(event);
 * await opener.finish();
 */
export function createSizedOpener(openRecord: OpenRecord): Opener {
  const reader = recordReader(openRecord);
  const prefix = new Uint8Array(LENGTH_SIZE);
  const held = new Uint8Array(SEALED_RECORD_SIZE);
  let prefixLength = 0;
  let heldLength = 0;
  let want = 0; // the length of the record being read; 0 while its prefix is
  let finished = false;
  const queued = serial();

  /** Takes bytes from `bytes` at `at` into the prefix or the record; returns how many it took. */
  function take(bytes: Uint8Array, at: number): number {
    if (want === 0) {
      const n = Math.min(LENGTH_SIZE - prefixLength, bytes.length - at);
      prefix.set(bytes.subarray(at, at + n), prefixLength);
      prefixLength += n;
      if (prefixLength === LENGTH_SIZE) {
        want = announcedLength(prefix);
        prefixLength = 0;
      }
      return n;
    }
    const n = Math.min(want - heldLength, bytes.length - at);
    held.set(bytes.subarray(at, at + n), heldLength);
    heldLength += n;
    return n;
  }

  return {
    push: queued(async (bytes: Uint8Array) => {
      checkBytes(bytes);
      if (finished) throw misuse("push() after finish()");
      const out: Uint8Array[] = [];
      let at = 0;
      while (at < bytes.length) {
        if (reader.ended) throw failed("data after the last record");
        at += take(bytes, at);
        if (want !== 0 && heldLength === want) {
          out.push(await reader.open(held.subarray(0, want)));
          want = 0;
          heldLength = 0;
        }
      }
      return out;
    }),
    finish: queued(async () => {
      if (finished) throw misuse("finish() called twice");
      finished = true;
      if (!reader.ended) throw failed("truncated (the last record is missing)");
      return [];
    }),
  };
}

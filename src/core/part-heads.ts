/**
 * V14: the part heads of a multipart body read as its bytes pass on their
 * way to busboy (core/uploads.ts), by the buffered reader's own code
 * (multipart.ts `partAfter`), so that a spooled upload binds what a route
 * that reads the body whole binds: the same names, file names, types and
 * refusals. busboy would skip, without a word, a part whose
 * Content-Disposition it cannot read (the Python peer's
 * `form-data; name="x"; `), read Latin-1 names as UTF-8 and text without a
 * charset as UTF-8 too.
 *
 * busboy gets, in place of each head, one it reads whatever the sender
 * wrote: `form-data; name="<n>"` (and `filename="f"` for a file), `n` the
 * part's number in `heads`; no Content-Type, so that a text part comes as
 * Latin-1 (its bytes as they are) for `partText`'s rules. The contents and
 * the delimiters pass as they came, chunk for chunk, uncopied; only a head
 * is held until it is whole, at most its 16 KiB and a little padding.
 */
import { HttpError } from "../common/errors.js";
import { boundaryOf, MULTIPART_LIMITS, type PartHead, partAfter } from "./multipart.js";

/** Bytes held for one head at most: the headers' limit and room for padding, line ends and the close. */
const HELD = MULTIPART_LIMITS.headerSize + 1024;
const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");
const EMPTY = Buffer.alloc(0);

/** A part head as busboy is given it (the part's number as its name). */
function busboyHead(n: number, file: boolean): Buffer {
  const filename = file ? '; filename="f"' : "";
  return Buffer.from(`\r\nContent-Disposition: form-data; name="${n}"${filename}\r\n\r\n`, "latin1");
}

/** Reads the heads of a multipart body chunk by chunk; see the file's comment. */
export class PartHeads {
  /** The heads read so far, in order; busboy's name `n` is `heads[n - 1]`. */
  readonly heads: PartHead[] = [];
  readonly #delimiter: Buffer;
  readonly #isFile: (head: PartHead) => boolean;
  /** "body": before the first delimiter or in a part's content; "head": after a delimiter; "done": after the close. */
  #state: "body" | "head" | "done" = "body";
  /** The last bytes of the body state, in which a delimiter may begin (the body begins as if after a line). */
  #tail: Buffer = Buffer.from("\r\n", "latin1");
  /** A head begun in an earlier chunk: its first `#heldBytes` bytes. */
  #buf: Buffer | undefined;
  #heldBytes = 0;

  /** `isFile` says which heads busboy is to see as files. */
  constructor(contentType: string, isFile: (head: PartHead) => boolean) {
    this.#delimiter = Buffer.from(`\r\n--${boundaryOf(contentType)}`, "latin1");
    this.#isFile = isFile;
  }

  /** Passes `chunk` on to `out`, a head rewritten, in one or more pieces; throws a 400 for a bad head. */
  push(chunk: Buffer, out: (bytes: Buffer) => void): void {
    let rest = chunk;
    while (rest.length > 0) {
      if (this.#state === "done") {
        out(rest);
        return;
      }
      if (this.#state === "body") rest = this.#body(rest, out);
      else rest = this.#head(rest, out, false);
    }
  }

  /** The body ended: passes what is held, or throws the 400 of a body cut short. */
  end(out: (bytes: Buffer) => void): void {
    if (this.#state === "head") this.#head(EMPTY, out, true);
    if (this.#state === "done") return;
    const n = this.heads.length;
    fail(n === 0 ? "no boundary line" : `part ${n} is cut before its closing boundary`);
  }

  /** Content (or a preamble) up to and with a delimiter; what follows it, or nothing. */
  #body(bytes: Buffer, out: (bytes: Buffer) => void): Buffer {
    const d = this.#delimiter;
    const tail = this.#tail;
    let end = -1;
    if (tail.length > 0) {
      // a delimiter across the edge begins in the tail (it is longer than what may follow there)
      const at = Buffer.concat([tail, bytes.subarray(0, d.length - 1)]).indexOf(d);
      if (at >= 0) end = at + d.length - tail.length;
    }
    if (end < 0) {
      const at = bytes.indexOf(d);
      if (at >= 0) end = at + d.length;
    }
    if (end < 0) {
      out(bytes);
      const keep = d.length - 1;
      // a copy: the tail keeps no chunk alive
      this.#tail = Buffer.from(
        bytes.length >= keep
          ? bytes.subarray(bytes.length - keep)
          : Buffer.concat([tail, bytes]).subarray(-keep),
      );
      return EMPTY;
    }
    out(bytes.subarray(0, end));
    this.#state = "head";
    return bytes.subarray(end);
  }

  /** Holds the bytes after a delimiter until they make a head (passed rewritten) or the close. */
  #head(bytes: Buffer, out: (bytes: Buffer) => void, final: boolean): Buffer {
    // Held: a view of the chunk when the head is whole in it (the usual case), else a copy
    // in one buffer of HELD + 1 bytes, filled once: a head sent byte by byte costs no more.
    const before = this.#heldBytes;
    let held: Buffer;
    if (before === 0) held = bytes.subarray(0, HELD + 1);
    else {
      const take = bytes.copy(this.#buf!, before, 0, Math.min(bytes.length, HELD + 1 - before));
      held = this.#buf!.subarray(0, before + take);
    }
    // read only once it can be whole: the close, a blank line, the body's end, or past the limit
    const blank = held.indexOf(CRLFCRLF, Math.max(0, before - 3));
    const close = held.length >= 2 && held[0] === 45 && held[1] === 45;
    if (!final && !close && blank < 0 && held.length <= HELD) {
      if (before === 0) {
        this.#buf ??= Buffer.allocUnsafe(HELD + 1);
        held.copy(this.#buf);
      }
      this.#heldBytes = held.length;
      return EMPTY;
    }
    // partAfter() reads a head only once it is whole, or more than a head may hold: a 400 then
    const index = this.heads.length + 1;
    const next = partAfter(held, held.toString("latin1"), 0, index, final);
    this.#heldBytes = 0;
    if (next === null) {
      this.#state = "done";
      out(held);
      return bytes.subarray(held.length - before);
    }
    // a head read here was whole before the body's end (its blank line opened the gate above)
    this.heads.push(next.head);
    out(busboyHead(index, this.#isFile(next.head)));
    this.#state = "body";
    this.#tail = EMPTY; // the content begins: no CRLF before it to count
    return bytes.subarray(next.start - before); // the head ends in this chunk: a blank line was in it
  }
}

function fail(why: string): never {
  throw new HttpError("USRV_ERR_BAD_MULTIPART", `invalid multipart body: ${why}`);
}

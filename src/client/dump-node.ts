/**
 * C6: `FormData.dump(folder)` on Node. Three locks keep every write inside
 * the folder: names are reduced to a safe base name (safe-name.ts), the
 * folder is resolved once to its real path, and each file is created with
 * O_CREAT | O_EXCL | O_NOFOLLOW, so an existing file is never overwritten
 * and a symbolic link planted under a part's name is never followed (the
 * next free name is taken instead).
 *
 * A form is bounded before anything is written (its parts counted, its
 * bytes summed), and written whole or not at all: on a failure, the files
 * this dump created, and the folders it made, are removed. Files are made
 * in place rather than in a scratch folder renamed into the target, because
 * Node has no rename that refuses to replace (RENAME_NOREPLACE): moving
 * each file in would reopen the overwrite the O_EXCL above closes.
 */
import { constants, openAsBlob } from "node:fs";
import { type FileHandle, mkdir, open, realpath, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { ClientError } from "./errors.js";
import { type DumpedPart, type DumpLimits, type FormPart, isFileRef } from "./platform.js";
import { safeFileName, variant } from "./safe-name.js";

const FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);
/** Names tried for one part when the next ones exist already on disk (planted, or left by another dump). */
const MAX_TRIES = 1000;

function fileError(message: string, cause?: unknown): ClientError {
  return new ClientError("USRV_ERR_CLIENT_FILE", `dump: ${message}`, cause === undefined ? {} : { cause });
}

/** Creates the first free variant of `name`, from the one after the last this dump took. */
async function create(root: string, name: string, next: Map<string, number>): Promise<[FileHandle, string]> {
  let n = next.get(name) ?? 0;
  for (let tries = 0; tries < MAX_TRIES; tries++, n++) {
    const candidate = variant(name, n);
    try {
      const handle = await open(join(root, candidate), FLAGS, 0o644);
      next.set(name, n + 1);
      return [handle, candidate];
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EEXIST" && code !== "ELOOP")
        throw fileError(`cannot create ${candidate}: ${(e as Error).message}`, e);
    }
  }
  throw fileError(`no free name for ${name} after ${MAX_TRIES} tries`);
}

function tooMuch(what: string, limits: DumpLimits): ClientError {
  return new ClientError(
    "USRV_ERR_CLIENT_DUMP_LIMIT",
    `dump: ${what}: nothing was written; pass a larger { maxParts, maxBytes } to dump ` +
      `(now ${limits.maxParts} parts, ${limits.maxBytes} bytes; Infinity lifts a bound)`,
  );
}

/** The bytes the parts will write: a file on disk counts its size now (and is held to it as it is copied). */
async function sizeOf(parts: readonly FormPart[]): Promise<number> {
  let total = 0;
  for (const { data } of parts) {
    if (data instanceof Uint8Array) total += data.length;
    else if (!isFileRef(data)) total += data.size;
    else {
      try {
        total += (await stat(data.path)).size;
      } catch (e) {
        throw fileError(`cannot read ${JSON.stringify(data.path)}: ${(e as Error).message}`, e);
      }
    }
  }
  return total;
}

/** Copies a part into its file; `budget.left` bytes may still be written. */
async function write(
  handle: FileHandle,
  data: FormPart["data"],
  budget: { left: number },
  limits: DumpLimits,
): Promise<void> {
  if (data instanceof Uint8Array) {
    budget.left -= data.length;
    await handle.writeFile(data);
    return;
  }
  // a Blob or a file on disk: streamed, never loaded whole
  const blob = isFileRef(data) ? await openAsBlob(data.path) : data;
  const reader = blob.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      budget.left -= value.length;
      // a file on disk that grew since it was measured
      if (budget.left < 0)
        throw tooMuch(`the parts grew past ${limits.maxBytes} bytes as they were written`, limits);
      await handle.write(value);
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw e;
  }
}

/** Removes what a failed dump made: its files, then the folders it created, innermost first. */
async function undo(paths: readonly string[], folder: string, made: string | undefined): Promise<void> {
  for (const path of paths) await unlink(path).catch(() => undefined);
  if (made === undefined) return;
  const top = resolve(made);
  for (let dir = resolve(folder); dir.startsWith(top); dir = dirname(dir)) {
    try {
      await rmdir(dir); // never recursive: a file someone else put there meanwhile stays, with its folders
    } catch {
      return;
    }
    if (dir === top) return;
  }
}

/**
 * Writes the parts into `folder`, all or none; see the file comment for the guarantees.
 *
 * @example
 * await dumpParts(form.parts, "./uploads", { maxParts: 1000, maxBytes: 64 * 1024 * 1024 });
 */
export async function dumpParts(
  parts: readonly FormPart[],
  folder: string,
  limits: DumpLimits,
): Promise<DumpedPart[]> {
  if (typeof folder !== "string" || folder === "")
    throw new ClientError("USRV_ERR_CLIENT_BAD_ARGUMENT", "dump needs a folder");
  // bounded before the first write: a hostile form costs no file, not even its folder
  if (parts.length > limits.maxParts) throw tooMuch(`${parts.length} parts, over maxParts`, limits);
  const total = await sizeOf(parts);
  if (total > limits.maxBytes) throw tooMuch(`${total} bytes, over maxBytes`, limits);
  const made = await mkdir(folder, { recursive: true });
  const written: string[] = [];
  try {
    const root = await realpath(folder);
    const next = new Map<string, number>();
    const budget = { left: limits.maxBytes };
    const out: DumpedPart[] = [];
    for (const part of parts) {
      const [handle, name] = await create(root, safeFileName(part), next);
      const path = join(root, name);
      written.push(path);
      try {
        await write(handle, part.data, budget, limits);
      } catch (e) {
        if (e instanceof ClientError) throw e;
        throw fileError(`cannot write ${name}: ${(e as Error).message}`, e);
      } finally {
        await handle.close();
      }
      out.push({ name: part.name, filename: part.filename, type: part.type, path });
    }
    return out;
  } catch (e) {
    await undo(written, folder, made);
    throw e;
  }
}

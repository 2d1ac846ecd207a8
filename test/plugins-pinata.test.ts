/**
 * P1: the Pinata plugin against a local fake of Pinata's two hosts
 * (fixtures/fake-pinata.ts), over real sockets.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ClientError, ClientHttpError } from "usrv/client";
import * as plugin from "usrv/plugins/pinata";
import { createPinata, PINATA_ERRORS, type Pinata, PinataError } from "usrv/plugins/pinata";
import { type FakePinata, fakeCid, startFakePinata } from "./fixtures/fake-pinata.js";

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3J2LXRlc3QifQ.dGVzdC1zaWduYXR1cmUtb2YtdGhlLWp3dA";
const WRONG = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3cm9uZyJ9.d3Jvbmctc2lnbmF0dXJl";

/** Asserts that `promise` rejects with a PinataError of `code`, and returns it. */
async function rejectsWith(
  promise: Promise<unknown>,
  code: keyof typeof PINATA_ERRORS,
): Promise<PinataError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof PinataError, `expected a PinataError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, the call resolved`);
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest();

describe("P1: Pinata plugin", () => {
  let fake: FakePinata;
  let pinata: Pinata;
  let dir: string;
  const pluginLogs: string[] = [];
  const errors: string[] = [];
  const logger = { debug: (obj: object, msg?: string) => pluginLogs.push(`${msg} ${JSON.stringify(obj)}`) };
  const file = (name: string, bytes: Uint8Array | string) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  const other = (jwt?: string) => {
    const p = createPinata({ apiUrl: fake.apiUrl, uploadsUrl: fake.uploadsUrl, logger });
    if (jwt !== undefined) p.link(jwt);
    return p;
  };
  const keep = async <T>(p: Promise<T>, code: keyof typeof PINATA_ERRORS) => {
    const err = await rejectsWith(p, code);
    errors.push(err.message, JSON.stringify(err.body ?? null));
    return err;
  };

  before(async () => {
    fake = await startFakePinata({ jwt: JWT });
    dir = mkdtempSync(join(tmpdir(), "usrv-pinata-"));
    pinata = other(JWT);
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("P1: exports of usrv/plugins/pinata", () => {
    assert.deepEqual(Object.keys(plugin).sort(), [
      "PINATA_API_URL",
      "PINATA_ERRORS",
      "PINATA_UPLOADS_URL",
      "Pinata",
      "PinataError",
      "createPinata",
      "defaultPinata",
      "files",
      "link",
      "pinFile",
      "testAuthentication",
      "updateMetadata",
    ]);
  });

  it("P1: base URLs default to Pinata's hosts and are configurable; bad ones are refused", () => {
    assert.equal(plugin.PINATA_API_URL, "https://api.pinata.cloud");
    assert.equal(plugin.PINATA_UPLOADS_URL, "https://uploads.pinata.cloud");
    const p = createPinata();
    assert.equal(p.api.peer, "https://api.pinata.cloud");
    assert.equal(p.uploads.peer, "https://uploads.pinata.cloud");
    assert.equal(createPinata({ apiUrl: `${fake.apiUrl}/` }).api.peer, fake.apiUrl);
    for (const apiUrl of ["ftp://x", "not a url", "https://h/?q=1"])
      assert.throws(
        () => createPinata({ apiUrl }),
        (e: PinataError) => e.code === "USRV_ERR_PINATA_BAD_ARGUMENT",
      );
  });

  it("P1: testAuthentication sends the JWT as a Bearer token", async () => {
    const out = await pinata.testAuthentication();
    assert.equal(out.message, "Congratulations! You are communicating with the Pinata API!");
    assert.deepEqual(fake.requests.at(-1), {
      host: "api",
      method: "GET",
      path: "/data/testAuthentication",
      auth: "valid",
    });
  });

  it("P1: no token: a typed error before anything is sent", async () => {
    const seen = fake.requests.length;
    const p = other();
    assert.equal(p.linked, false);
    await keep(p.testAuthentication(), "USRV_ERR_PINATA_NO_TOKEN");
    await keep(p.legacy.pinFile("a", file("a.txt", "a")), "USRV_ERR_PINATA_NO_TOKEN");
    await keep(p.legacy.updateMetadata("a", "bafk"), "USRV_ERR_PINATA_NO_TOKEN");
    await keep(p.files.upload("public", "a", file("a.txt", "a")), "USRV_ERR_PINATA_NO_TOKEN");
    await keep(p.files.update("public", "id", { name: "b" }), "USRV_ERR_PINATA_NO_TOKEN");
    for (const bad of ["", "  ", "a\r\nX-Evil: 1", undefined as unknown as string])
      assert.throws(
        () => p.link(bad),
        (e: PinataError) => e.code === "USRV_ERR_PINATA_NO_TOKEN",
      );
    assert.equal(fake.requests.length, seen);
  });

  it("P1: a refused JWT: 401 UNAUTHORIZED with Pinata's reason, legacy shape and v3 shape", async () => {
    const p = other(WRONG);
    const legacy = await keep(p.testAuthentication(), "USRV_ERR_PINATA_UNAUTHORIZED");
    assert.equal(legacy.status, 401);
    assert.equal(legacy.reason, "INVALID_CREDENTIALS");
    assert.deepEqual(legacy.body, {
      error: { reason: "INVALID_CREDENTIALS", details: "Invalid/expired credentials provided" },
    });
    const v3 = await keep(p.files.upload("public", "a", file("a.txt", "a")), "USRV_ERR_PINATA_UNAUTHORIZED");
    assert.equal(v3.status, 401);
    assert.equal(v3.reason, "Unauthorized: Invalid/expired credentials provided");
    assert.deepEqual(v3.body, {
      error: { code: 401, message: "Unauthorized: Invalid/expired credentials provided" },
    });
  });

  it("P1: pinFile: multipart to /pinning/pinFileToIPFS, the file and two JSON parts, cidVersion 1 by default", async () => {
    const bytes = randomBytes(1000);
    const pin = await pinata.legacy.pinFile("cat picture", file("cat.png", bytes), {}, { owner: "me", n: 1 });
    assert.equal(pin.IpfsHash, fakeCid(sha256(bytes), 1));
    assert.match(pin.IpfsHash, /^bafkrei[a-z2-7]{52}$/);
    assert.equal(pin.PinSize, 1000);
    assert.ok(!Number.isNaN(Date.parse(pin.Timestamp)));
    assert.equal(pin.isDuplicate, false);
    const seen = fake.requests.at(-1)!;
    assert.equal(seen.path, "/pinning/pinFileToIPFS");
    assert.deepEqual(seen.parts, [
      { name: "file", type: "image/png", filename: "cat.png" },
      { name: "pinataOptions", type: "application/json", value: '{"cidVersion":1}' },
      {
        name: "pinataMetadata",
        type: "application/json",
        value: '{"name":"cat picture","keyvalues":{"owner":"me","n":1}}',
      },
    ]);
    assert.deepEqual(fake.pins.get(pin.IpfsHash), {
      cid: pin.IpfsHash,
      name: "cat picture",
      keyvalues: { owner: "me", n: 1 },
      size: 1000,
    });
  });

  it("P1: pinFile of the same content again: isDuplicate", async () => {
    const path = file("dup.txt", "same bytes");
    assert.equal((await pinata.legacy.pinFile("one", path)).isDuplicate, false);
    const again = await pinata.legacy.pinFile("two", path);
    assert.equal(again.isDuplicate, true);
    assert.equal(again.IpfsHash, fakeCid(sha256(Buffer.from("same bytes")), 1));
  });

  it("P1: pinFile options go to pinataOptions: cidVersion 0 gives a v0 CID", async () => {
    const bytes = Buffer.from("version zero");
    const pin = await pinata.legacy.pinFile("v0", file("v0.txt", bytes), {
      cidVersion: 0,
      wrapWithDirectory: false,
    });
    assert.equal(pin.IpfsHash, fakeCid(sha256(bytes), 0));
    assert.match(pin.IpfsHash, /^Qm[1-9A-HJ-NP-Za-km-z]{44}$/);
    assert.deepEqual(fake.requests.at(-1)!.parts![1], {
      name: "pinataOptions",
      type: "application/json",
      value: '{"cidVersion":0,"wrapWithDirectory":false}',
    });
  });

  it("P1: pinFile streams a file larger than a body buffer, intact", async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 7);
    const pin = await pinata.legacy.pinFile("big", file("big.bin", bytes));
    assert.equal(pin.PinSize, bytes.length);
    assert.equal(pin.IpfsHash, fakeCid(sha256(bytes), 1));
  });

  it("P1: a file that cannot be read: USRV_ERR_PINATA_FILE, nothing sent", async () => {
    const seen = fake.requests.length;
    mkdirSync(join(dir, "folder"), { recursive: true });
    for (const path of [join(dir, "missing.png"), join(dir, "folder")]) {
      const err = await keep(pinata.legacy.pinFile("x", path), "USRV_ERR_PINATA_FILE");
      assert.ok(err.message.includes(path));
      await keep(pinata.files.upload("public", "x", path), "USRV_ERR_PINATA_FILE");
    }
    assert.equal(fake.requests.length, seen);
  });

  it("P1: updateMetadata: PUT /pinning/hashMetadata with { ipfsPinHash, name, keyvalues }; null removes a key", async () => {
    const pin = await pinata.legacy.pinFile("before", file("meta.txt", "metadata"), {}, { a: "1", b: "2" });
    assert.equal(await pinata.legacy.updateMetadata("after", pin.IpfsHash, { b: null, c: true }), undefined);
    assert.deepEqual(fake.requests.at(-1), {
      host: "api",
      method: "PUT",
      path: "/pinning/hashMetadata",
      auth: "valid",
    });
    assert.deepEqual(fake.pins.get(pin.IpfsHash)?.name, "after");
    assert.deepEqual(fake.pins.get(pin.IpfsHash)?.keyvalues, { a: "1", c: true });
  });

  it("P1: updateMetadata of an unknown hash: 404 USRV_ERR_PINATA_NOT_FOUND", async () => {
    const err = await keep(pinata.legacy.updateMetadata("x", "bafkunknown"), "USRV_ERR_PINATA_NOT_FOUND");
    assert.equal(err.status, 404);
    assert.equal(err.reason, "NOT_FOUND");
  });

  it("P1: files.upload: POST /v3/files on the uploads host, fields file, network, name, group_id, keyvalues", async () => {
    const bytes = Buffer.from("%PDF-1.7 a report");
    const out = await pinata.files.upload("private", "report", file("report.pdf", bytes), {
      groupId: "g-1",
      keyvalues: { year: 2025 },
    });
    assert.equal(out.cid, fakeCid(sha256(bytes), 1));
    assert.equal(out.name, "report");
    assert.equal(out.size, bytes.length);
    assert.equal(out.number_of_files, 1);
    assert.equal(out.mime_type, "application/pdf");
    assert.equal(out.group_id, "g-1");
    assert.deepEqual(out.keyvalues, { year: 2025 });
    assert.equal(out.is_duplicate, false);
    const seen = fake.requests.at(-1)!;
    assert.equal(seen.host, "uploads");
    assert.deepEqual(
      seen.parts!.map((p) => [p.name, p.value ?? p.filename]),
      [
        ["file", "report.pdf"],
        ["network", "private"],
        ["name", "report"],
        ["group_id", "g-1"],
        ["keyvalues", '{"year":2025}'],
      ],
    );
    assert.ok(fake.files.has(`private/${out.id}`));
  });

  it("P1: legacy pins and v3 files are separate stores; v3 duplicates are per network", async () => {
    const path = file("both.txt", "in both stores");
    const pins = fake.pins.size;
    const pin = await pinata.legacy.pinFile("legacy", path);
    const first = await pinata.files.upload("public", "v3", path);
    assert.equal(first.is_duplicate, false, "a legacy pin is not a v3 file");
    assert.equal(first.cid, pin.IpfsHash);
    assert.equal(fake.pins.size, pins + 1, "a v3 upload adds no legacy pin");
    const again = await pinata.files.upload("public", "v3 again", path);
    assert.equal(again.is_duplicate, true);
    assert.equal(again.id, first.id);
    const elsewhere = await pinata.files.upload("private", "v3", path);
    assert.equal(elsewhere.is_duplicate, false);
    assert.notEqual(elsewhere.id, first.id);
  });

  it("P1: files.update: PUT /v3/files/{network}/{id} on the API host", async () => {
    const up = await pinata.files.upload("public", "old name", file("rename.txt", "rename me"));
    const out = await pinata.files.update("public", up.id, { name: "new name", keyvalues: { k: "v" } });
    assert.equal(out.id, up.id);
    assert.equal(out.name, "new name");
    assert.deepEqual(out.keyvalues, { k: "v" });
    assert.deepEqual(fake.requests.at(-1), {
      host: "api",
      method: "PUT",
      path: `/v3/files/public/${up.id}`,
      auth: "valid",
    });
    const missing = await keep(
      pinata.files.update("private", up.id, { name: "x" }),
      "USRV_ERR_PINATA_NOT_FOUND",
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.reason, `file ${up.id} not found in private`);
  });

  it("P1: bad arguments are typed errors, before anything is sent", async () => {
    const seen = fake.requests.length;
    const path = file("args.txt", "args");
    const cases: Promise<unknown>[] = [
      pinata.files.upload("public2" as "public", "a", path),
      pinata.files.update("nope" as "public", "id", {}),
      pinata.files.update("public", "", {}),
      pinata.legacy.pinFile("", path),
      pinata.legacy.pinFile("a", path, "cidVersion=1" as never),
      pinata.legacy.pinFile("a", path, {}, { nested: { no: 1 } } as never),
      pinata.legacy.updateMetadata("a", ""),
      pinata.files.upload("public", "a", path, { keyvalues: ["x"] as never }),
    ];
    for (const c of cases) await keep(c, "USRV_ERR_PINATA_BAD_ARGUMENT");
    assert.equal(fake.requests.length, seen);
  });

  it("P1: malformed answers are USRV_ERR_PINATA_BAD_ANSWER", async () => {
    const path = file("malformed.txt", "malformed");
    fake.malformNext("/pinning/pinFileToIPFS", "<html><body>502 Bad Gateway</body></html>");
    await keep(pinata.legacy.pinFile("m", path), "USRV_ERR_PINATA_BAD_ANSWER");
    fake.malformNext("/pinning/pinFileToIPFS", '{"IpfsHash": 42}', "application/json");
    await keep(pinata.legacy.pinFile("m", path), "USRV_ERR_PINATA_BAD_ANSWER");
    fake.malformNext("/pinning/pinFileToIPFS", '{"IpfsHash": "bafk', "application/json");
    await keep(pinata.legacy.pinFile("m", path), "USRV_ERR_PINATA_BAD_ANSWER");
    fake.malformNext("/data/testAuthentication", "[]", "application/json");
    await keep(pinata.testAuthentication(), "USRV_ERR_PINATA_BAD_ANSWER");
    fake.malformNext("/v3/files", '{"id": "not wrapped in data"}', "application/json");
    await keep(pinata.files.upload("public", "m", path), "USRV_ERR_PINATA_BAD_ANSWER");
  });

  it("P1: network failures stay the client's ClientError", async () => {
    const p = createPinata({ apiUrl: "http://127.0.0.1:1" });
    p.link(JWT);
    await assert.rejects(
      p.testAuthentication(),
      (e: ClientError) => e.code === "USRV_ERR_CLIENT_UNREACHABLE",
    );
  });

  it("P1: the raw clients add the JWT for their own host only", async () => {
    assert.deepEqual(await pinata.api.GET.data.testAuthentication(), {
      message: "Congratulations! You are communicating with the Pinata API!",
    });
    assert.equal(fake.requests.at(-1)!.auth, "valid");
    // the API host's client, told to call another peer, does not send the token there
    await assert.rejects(
      pinata.api.POST.v3.files({ network: "public" }, { peer: fake.uploadsUrl }),
      (e: ClientHttpError) => e instanceof ClientHttpError && e.status === 401,
    );
    assert.deepEqual(fake.requests.at(-1), {
      host: "uploads",
      method: "POST",
      path: "/v3/files",
      auth: "none",
    });
  });

  it("P1: the module-level functions (the seed's names) use the default account at Pinata's hosts", async () => {
    const main = plugin.defaultPinata();
    assert.equal(main, plugin.defaultPinata());
    assert.equal(main.api.peer, "https://api.pinata.cloud");
    assert.equal(main.linked, false);
    // nothing goes to the real Pinata: every call below stops at the missing token
    await rejectsWith(plugin.testAuthentication(), "USRV_ERR_PINATA_NO_TOKEN");
    await rejectsWith(plugin.pinFile("a", file("m.txt", "m")), "USRV_ERR_PINATA_NO_TOKEN");
    await rejectsWith(plugin.updateMetadata("a", "bafk"), "USRV_ERR_PINATA_NO_TOKEN");
    await rejectsWith(plugin.files.upload("public", "a", file("m.txt", "m")), "USRV_ERR_PINATA_NO_TOKEN");
    await rejectsWith(plugin.files.update("public", "id", {}), "USRV_ERR_PINATA_NO_TOKEN");
    assert.throws(() => plugin.link(""), PinataError);
    plugin.link(JWT);
    assert.equal(main.linked, true);
  });

  it("P1: no token in any log line (the fake's, the plugin's) nor in any error", () => {
    assert.ok(pluginLogs.length > 10 && fake.logs.length > 10);
    assert.ok(pluginLogs.some((l) => l.includes('"authorization":"[redacted]"')));
    assert.ok(fake.logs.some((l) => l.includes('"authorization":"[redacted]"')));
    for (const line of [...pluginLogs, ...fake.logs, ...errors]) {
      assert.ok(!line.includes(JWT) && !line.includes(WRONG), `a token in: ${line}`);
      assert.ok(!line.includes("Bearer ey"), `a token in: ${line}`);
    }
  });

  it("P1: the README's Plugins section lists exactly PINATA_ERRORS", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.split(/^## /m).find((s) => s.startsWith("Plugins\n")) ?? "";
    const rows = [...section.matchAll(/^\| `(USRV_ERR_PINATA_\w+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(rows, Object.entries(PINATA_ERRORS));
  });
});

/**
 * Every exchange of test/fixtures/vectors/usrv-0.4.3-http-transcripts.json (recorded
 * between Python usrv peers), checked on both backends: keys, signatures and
 * bodies as docs/wire.md's "HTTP headers" section describes them.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { backends, jsonFixture } from "./fixtures/helpers.js";

interface Transcript {
  name: string;
  client_secret: string;
  server_secret: string;
  request: { method: string; path: string; headers: Record<string, string>; body: string | null };
  response: { status: number; headers: Record<string, string>; body: string };
  plaintext_request_body?: string;
  plaintext_response_body: string;
}

const transcripts = jsonFixture<Transcript[]>("vectors/usrv-0.4.3-http-transcripts.json");

/** Header names are case-insensitive (docs/wire.md): look them up lower-cased. */
function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

test("the transcript file is not empty", () => {
  assert.ok(transcripts.length >= 2);
});

for (const [name, s] of backends) {
  describe(`docs/wire.md HTTP transcripts [${name}]`, () => {
    for (const t of transcripts) {
      describe(t.name, () => {
        const client = s.generateKeypair(t.client_secret);
        const server = s.generateKeypair(t.server_secret);
        const req = lower(t.request.headers);
        const res = lower(t.response.headers);

        test("Sender-Public-Key headers are the keys derived from the secrets", () => {
          assert.equal(req["sender-public-key"], client.publicKey);
          assert.equal(res["sender-public-key"], server.publicKey);
        });

        if (req["sender-signature"] !== undefined) {
          test("Encrypted request: Sender-Signature = sign(hex_body + ephemeral_b64 + nonce) by the client", () => {
            const signed = t.request.body! + req["ephemeral-public-key"]! + req.nonce!;
            assert.equal(s.verify(signed, req["sender-signature"]!, client.publicKey), true);
            // the nonce is part of it: without it, or with another key, it fails
            assert.equal(
              s.verify(
                t.request.body! + req["ephemeral-public-key"]!,
                req["sender-signature"]!,
                client.publicKey,
              ),
              false,
            );
            assert.equal(s.verify(signed, req["sender-signature"]!, server.publicKey), false);
          });
          test("Encrypted request: the body decrypts with the server key", () => {
            const plain = s.decrypt(server.privateKey, req["ephemeral-public-key"]!, t.request.body!);
            assert.equal(plain, t.plaintext_request_body);
          });
        }

        test("Server processing 4: Sender-Signature = sign(hex_body + ephemeral_b64) by the server, no nonce", () => {
          const signed = t.response.body + res["ephemeral-public-key"]!;
          assert.equal(s.verify(signed, res["sender-signature"]!, server.publicKey), true);
          assert.equal(s.verify(signed, res["sender-signature"]!, client.publicKey), false);
        });
        test("Client processing of a response: the body decrypts with the client key", () => {
          const plain = s.decrypt(client.privateKey, res["ephemeral-public-key"]!, t.response.body);
          assert.equal(plain, t.plaintext_response_body);
          assert.equal(res["content-type"], "application/json");
        });
      });
    }
  });
}

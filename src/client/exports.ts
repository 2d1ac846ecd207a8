/** The names both entries re-export unchanged (platform-free). */
export type { Endpoint, EndpointArg } from "./builder.js";
export { Client, type Runtime } from "./client.js";
export type { EncodedBody, Encoder, EncoderName } from "./encode.js";
export { CLIENT_ERRORS, ClientError, type ClientErrorCode, ClientHttpError } from "./errors.js";
export type { DumpOptions, EncodedForm, FileOptions, FormDataBase } from "./form-data.js";
export { type CallOptions, type ClientOptions, DEFAULT_MAX_BODY_SIZE, type FullAnswer } from "./options.js";
export type { DumpedPart, FileRef, FormPart, Platform } from "./platform.js";
export type { Exchange, FetchLike, RetryOptions } from "./transport.js";

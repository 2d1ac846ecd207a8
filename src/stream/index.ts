/**
 * `usrv/stream`: answers that stream values as they come, server-sent events
 * and NDJSON, at the reader's pace. A subpath, so an app that never streams
 * loads none of it.
 */
export { type NdjsonOptions, ndjson } from "./ndjson.js";
export { MAX_STREAMS, openStreams, type Source, type StreamContext } from "./pull.js";
export { encodeEvent, lastEventId, MAX_LAST_EVENT_ID, type SseEvent, type SseOptions, sse } from "./sse.js";

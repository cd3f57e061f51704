// Limits of the local HTTP server, each defined once with its unit. Routers take their own body
// limit (the OpenAI API accepts much larger bodies than the control API).

/** Largest JSON body the control API reads (bytes). */
export const MAX_CONTROL_REQUEST_BODY_BYTES = 64 * 1024;
/** Largest message a UI may send on the events socket (bytes); the UI sends none today. */
export const MAX_EVENT_SOCKET_MESSAGE_BYTES = 4 * 1024;
/** A UI that falls this far behind on events is disconnected rather than buffered for (bytes). */
export const MAX_EVENT_SOCKET_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Time a client has to send a whole request's headers (milliseconds). */
export const HEADERS_TIMEOUT_MS = 30_000;
/** Time given to open connections to finish when the server stops (milliseconds). */
export const SHUTDOWN_GRACE_MS = 2_000;

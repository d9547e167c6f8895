// Package client is the HTTP client of the Appliance Management API v1,
// built on go-retryablehttp.
//
// Three rules shape it:
//   - A request is repeated only when repeating it cannot act twice: GETs,
//     DELETEs, POSTs that carry an Idempotency-Key, uploads (content
//     addressed by their sha256) and lease requests (the owner and operation
//     key identify a repeat). Anything else is retried only when the server
//     provably did not act on it (429, 503, or a connection that was never
//     made).
//   - The bearer token never appears in an error or a log line, whatever the
//     server echoes back.
//   - Image bundles stream from disk and are never held in memory.
package client

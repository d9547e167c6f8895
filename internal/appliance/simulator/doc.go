// Package simulator is the bundled simulator of clustered appliances: the
// Appliance Management API (v1) over HTTP. This package is the HTTP layer
// (routes, handlers, authentication, idempotent replay, uploads and
// downloads, the status page) and the constructor (New, Start, RunCommand);
// the state machine behind it is package engine, and small helpers have
// their own packages: filelock (the state file's lock), ftpget (FTP
// downloads) and downloadsite (the built-in download site).
//
// Image upload and download and image deletion need no lease; node, resource
// and cluster operations (stage, activate, revert, promote, move, finalize,
// licenses, supercluster, maintenance) need the lease's X-Lease-ID while a
// lease is held.
package simulator

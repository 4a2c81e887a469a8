// Package graphsim is a stateful simulator of Microsoft Graph v1.0 and of the Microsoft Entra
// token service, served over HTTPS from this process.
//
// cutover cannot reach a real Microsoft 365 tenant during development, tests, demos,
// rehearsals or benchmarks, so everything it does to a tenant is exercised against this
// simulator instead. It is therefore written to catch a client's mistakes rather than to
// please it: it returns Graph's real status codes, headers and error bodies, enforces the
// application permissions each endpoint needs, keeps true state that tests inspect through a
// separate API under /_sim/, and emits only property names that exist in Microsoft's
// official v1.0 metadata.
//
// It shares no code with the client package (internal/graph) beyond the standard library, so
// a misunderstanding of Graph in one cannot hide in the other.
//
// The package is hand-written because no maintained Go library simulates Graph: generic HTTP
// mocking libraries replay canned responses, while cutover needs state, permissions, paging,
// $batch, delta, domain verification and throttling that behave as a tenant does.
//
// All state lives in memory behind one mutex. Time comes from a Clock that can run faster
// than real time, and randomness from a seeded source, so a given seed yields the same
// tenants, people and decisions.
package graphsim

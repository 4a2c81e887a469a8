// Package graph is a Microsoft Graph v1.0 client built for bulk work: tens of thousands of
// writes against one tenant within Microsoft's published throttling budget, with every
// request accounted for.
//
// It is written by hand on top of azidentity (for tokens) and net/http rather than on the
// official msgraph-sdk-go, because a bulk tool needs behaviour that SDK does not have:
//
//   - pacing per published throttle bucket (Entra resource units and writes per app and
//     tenant, Entra writes per tenant shared by every app, Intune writes and requests,
//     Outlook per mailbox), charged by the published cost of each request before it is sent;
//   - a pause of every worker on a scope when Graph answers 429 with x-ms-throttle-scope,
//     instead of one goroutine sleeping while the others keep digging the hole deeper;
//   - rate adaptation (multiplicative decrease, gradual recovery) because the real ceiling
//     sits below the published one and moves from day to day;
//   - $batch with one result per item and a retry of each throttled or failed item on its
//     own, honouring that item's Retry-After; the SDKs retry neither inner items nor
//     decimal or HTTP-date Retry-After values correctly;
//   - retry rules that travel with each request as data (for example "a 404 right after our
//     own write is eventual consistency: retry it"), never a closure on a shared client.
//
// The package knows nothing about migrations. Start with [New] and a [Config]; most callers
// want [Client.Do] for one request, [Pages] or [Items] for listings, [Client.Batch] for bulk
// writes, and the typed calls ([Client.ListUsers], [Client.RevokeSignInSessions], …) built
// on them. docs/graph-client.md explains the design for engineers.
package graph

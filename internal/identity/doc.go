// Package identity decides who moves where and when: it imports the people file (a CSV that
// pairs each source account with its target account and names), proposes such pairs from the
// synced inventory, manages waves, and looks a person up by any of their names for status.
//
// A person pairs a source user with a target user. Before the migration weekend the target
// account signs in with a temporary "staging" name on the target's initial
// *.onmicrosoft.com domain, because the organisation's own domain still belongs to the source
// tenant; once the domain has moved, the target account is renamed to its final name. The
// importer therefore checks the final name against the domains the target will hold: the
// custom domains the source holds now (they move) and the target's own verified domains.
//
// The package owns no storage: each service declares the small interface it needs, and
// *store.Store satisfies them all.
package identity

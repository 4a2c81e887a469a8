package identity

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cutoverhq/cutover/internal/store"
)

// maxLocalPart is the longest user name part of a sign-in name that Entra accepts.
const maxLocalPart = 64

// checkSignInName reports what is wrong with name as a user principal name, or "" when it is
// well formed: one @, a user name of letters, digits and ' . - _ ! # ^ ~ that does not start
// or end with a dot, and a domain of at least two labels.
func checkSignInName(name string) string {
	local, domain, ok := strings.Cut(name, "@")
	switch {
	case !ok || strings.Contains(domain, "@"):
		return "must have exactly one @"
	case local == "":
		return "has no user name before the @"
	case len(local) > maxLocalPart:
		return fmt.Sprintf("has a user name longer than %d characters", maxLocalPart)
	case strings.HasPrefix(local, ".") || strings.HasSuffix(local, "."):
		return "has a user name that starts or ends with a dot"
	case strings.Contains(local, ".."):
		return "has two dots in a row"
	}
	for _, r := range local {
		if !isLocalRune(r) {
			return fmt.Sprintf("has %q in its user name (allowed: letters, digits and ' . - _ ! # ^ ~)", r)
		}
	}
	if !validDomain(domain) {
		return fmt.Sprintf("has an invalid domain %q", domain)
	}
	return ""
}

func isLocalRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("'.-_!#^~", r)
}

// validDomain accepts DNS names of two or more labels of letters, digits and inner hyphens.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// domainOf returns the lowercased domain of a sign-in name.
func domainOf(name string) string {
	_, d, _ := strings.Cut(name, "@")
	return strings.ToLower(d)
}

// localPartOf returns the lowercased user name of a sign-in name.
func localPartOf(name string) string {
	l, _, _ := strings.Cut(name, "@")
	return strings.ToLower(l)
}

// Domains describes which domains sign-in names may use after the cutover.
type Domains struct {
	// Final are the domains the target will hold once the cutover is done: the source's
	// verified custom domains (they move) and the target's verified domains. The source's
	// initial *.onmicrosoft.com domain cannot move and is not among them.
	Final []string
	// Target are the target's verified domains today, where staging names live.
	Target []string
}

// domainsFrom works out Domains from both tenants' inventories.
func domainsFrom(src, tgt []store.InventoryDomain) Domains {
	var d Domains
	for _, x := range src {
		if x.Verified && !x.Initial && !x.Deleted {
			d.Final = append(d.Final, strings.ToLower(x.Name))
		}
	}
	for _, x := range tgt {
		if x.Verified && !x.Deleted {
			d.Final = append(d.Final, strings.ToLower(x.Name))
			d.Target = append(d.Target, strings.ToLower(x.Name))
		}
	}
	slices.Sort(d.Final)
	slices.Sort(d.Target)
	d.Final, d.Target = slices.Compact(d.Final), slices.Compact(d.Target)
	return d
}

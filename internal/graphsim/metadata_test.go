package graphsim

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// This file reads Microsoft's Graph v1.0 CSDL metadata (../shared/graph/v1.0-metadata.xml
// beside the repository) so that tests can hold the simulator's property and parameter names
// against the published schema. Only the microsoft.graph schema is read: the file holds other
// schemas (security, identityGovernance, ...) that reuse names such as "user" for unrelated
// types, and nothing the simulator serves lives there.

// graphNamespace is the schema every type the simulator serves belongs to.
const graphNamespace = "microsoft.graph"

// csdl is the part of the metadata the conformance tests need.
type csdl struct {
	// types holds entity and complex types by unqualified name.
	types map[string]*csdlType
	// enums holds enumeration types by unqualified name.
	enums map[string]*csdlEnum
	// operations holds bound actions and functions by name; names are overloaded by binding
	// type (there is a "delta" for users, groups, devices, ...).
	operations map[string][]*csdlOperation
	// prefixes are the qualifiers that name this schema: its namespace and its alias.
	prefixes []string
}

// csdlType is an EntityType or ComplexType.
type csdlType struct {
	Name     string
	Complex  bool
	BaseType string // as written, such as "graph.entity"; empty for a root type
	Open     bool
	Abstract bool
	// Props maps structural property names to their type as written.
	Props map[string]string
	// Navs maps navigation property names to their type as written.
	Navs map[string]string
}

// csdlEnum is an EnumType.
type csdlEnum struct {
	Name    string
	Flags   bool
	Members map[string]bool
}

// csdlOperation is a bound Action or Function. In CSDL the first parameter of a bound
// operation is the binding parameter; its name varies ("bindingParameter", "bindingparameter",
// "bindparameter"), so it is recognised by position.
type csdlOperation struct {
	Name     string
	Function bool
	Binding  string   // binding parameter type as written, such as "Collection(graph.user)"
	Params   []string // the other parameters, in order
	Returns  string   // return type as written; empty for an action without one
}

// metadataPath finds ../shared/graph/v1.0-metadata.xml from the module root, the directory
// holding go.mod above the package directory.
func metadataPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "graph", "v1.0-metadata.xml"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the package directory")
		}
		dir = parent
	}
}

var (
	metadataOnce sync.Once
	metadataDoc  *csdl
	metadataErr  error
	metadataFile string
)

// graphMetadata returns the parsed v1.0 metadata, read once per test binary. Without the file
// the test is skipped, except in CI (CI=true), where a missing file is a failure: the check
// must not silently stop running there.
func graphMetadata(t testing.TB) *csdl {
	t.Helper()
	metadataOnce.Do(func() {
		metadataFile, metadataErr = metadataPath()
		if metadataErr != nil {
			return
		}
		f, err := os.Open(metadataFile)
		if err != nil {
			metadataErr = err
			return
		}
		defer f.Close()
		metadataDoc, metadataErr = parseCSDL(f, graphNamespace)
	})
	switch {
	case metadataErr == nil:
		return metadataDoc
	case errors.Is(metadataErr, os.ErrNotExist) && os.Getenv("CI") != "true":
		t.Skipf("Graph v1.0 metadata not found at %s: conformance not checked "+
			"(place the file there; in CI, with CI=true, this is a failure)", metadataFile)
	default:
		t.Fatalf("read Graph v1.0 metadata %s: %v", metadataFile, metadataErr)
	}
	return nil
}

// parseCSDL reads the schema with the given namespace from a CSDL document. It streams raw
// tokens and keeps only names and types, which reads the 3.5 MB Graph file in a fraction of
// a second.
func parseCSDL(r io.Reader, namespace string) (*csdl, error) {
	md := &csdl{types: map[string]*csdlType{}, enums: map[string]*csdlEnum{},
		operations: map[string][]*csdlOperation{}}
	p := csdlParser{md: md, namespace: namespace}
	d := xml.NewDecoder(r)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse metadata: %w", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			p.start(el)
		case xml.EndElement:
			p.end(el)
		}
	}
	if !p.found {
		return nil, fmt.Errorf("parse metadata: no schema with namespace %q", namespace)
	}
	return md, nil
}

// csdlParser tracks where the token stream is: inside the wanted schema, and inside which
// type or operation.
type csdlParser struct {
	md        *csdl
	namespace string
	found     bool
	inSchema  bool
	typ       *csdlType
	enum      *csdlEnum
	op        *csdlOperation
	opParams  int
}

func (p *csdlParser) start(el xml.StartElement) {
	if el.Name.Local == "Schema" {
		p.inSchema = attr(el, "Namespace") == p.namespace
		if p.inSchema {
			p.found = true
			p.md.prefixes = append(p.md.prefixes, p.namespace+".")
			if alias := attr(el, "Alias"); alias != "" {
				p.md.prefixes = append(p.md.prefixes, alias+".")
			}
		}
		return
	}
	if !p.inSchema {
		return
	}
	name := attr(el, "Name")
	switch el.Name.Local {
	case "EntityType", "ComplexType":
		p.typ = &csdlType{Name: name, Complex: el.Name.Local == "ComplexType",
			BaseType: attr(el, "BaseType"), Open: attr(el, "OpenType") == "true",
			Abstract: attr(el, "Abstract") == "true",
			Props:    map[string]string{}, Navs: map[string]string{}}
		p.md.types[name] = p.typ
	case "EnumType":
		p.enum = &csdlEnum{Name: name, Flags: attr(el, "IsFlags") == "true", Members: map[string]bool{}}
		p.md.enums[name] = p.enum
	case "Action", "Function":
		if attr(el, "IsBound") == "true" {
			p.op = &csdlOperation{Name: name, Function: el.Name.Local == "Function"}
			p.opParams = 0
		}
	case "Property":
		if p.typ != nil {
			p.typ.Props[name] = attr(el, "Type")
		}
	case "NavigationProperty":
		if p.typ != nil {
			p.typ.Navs[name] = attr(el, "Type")
		}
	case "Member":
		if p.enum != nil {
			p.enum.Members[name] = true
		}
	case "Parameter":
		if p.op != nil {
			if p.opParams == 0 {
				p.op.Binding = attr(el, "Type")
			} else {
				p.op.Params = append(p.op.Params, name)
			}
			p.opParams++
		}
	case "ReturnType":
		if p.op != nil {
			p.op.Returns = attr(el, "Type")
		}
	}
}

func (p *csdlParser) end(el xml.EndElement) {
	switch el.Name.Local {
	case "Schema":
		p.inSchema = false
	case "EntityType", "ComplexType":
		p.typ = nil
	case "EnumType":
		p.enum = nil
	case "Action", "Function":
		if p.op != nil {
			p.md.operations[p.op.Name] = append(p.md.operations[p.op.Name], p.op)
			p.op = nil
		}
	}
}

func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// local resolves a qualified type reference of this schema ("graph.user",
// "microsoft.graph.user") to its unqualified name. It reports whether the reference is
// collection-valued, and ok is false for Edm primitives and other schemas' types.
func (md *csdl) local(ref string) (name string, collection, ok bool) {
	if inner, found := strings.CutPrefix(ref, "Collection("); found {
		ref, collection = strings.TrimSuffix(inner, ")"), true
	}
	for _, p := range md.prefixes {
		if rest, found := strings.CutPrefix(ref, p); found && !strings.Contains(rest, ".") {
			return rest, collection, true
		}
	}
	return ref, collection, false
}

// chain returns the type and its base types, most derived first, or an error naming the
// first type that does not resolve in this schema.
func (md *csdl) chain(name string) ([]*csdlType, error) {
	var out []*csdlType
	for name != "" {
		t := md.types[name]
		if t == nil {
			return out, fmt.Errorf("type %q is not in schema %s", name, strings.TrimSuffix(md.prefixes[0], "."))
		}
		out = append(out, t)
		if len(out) > 64 {
			return out, fmt.Errorf("base type cycle at %q", name)
		}
		if t.BaseType == "" {
			break
		}
		base, _, ok := md.local(t.BaseType)
		if !ok {
			return out, fmt.Errorf("base type %q of %q is outside the schema", t.BaseType, name)
		}
		name = base
	}
	return out, nil
}

// property finds a structural or navigation property on the type or its base types and
// returns its declared type.
func (md *csdl) property(typeName, prop string) (typ string, nav, ok bool) {
	types, _ := md.chain(typeName)
	for _, t := range types {
		if typ, ok := t.Props[prop]; ok {
			return typ, false, true
		}
		if typ, ok := t.Navs[prop]; ok {
			return typ, true, true
		}
	}
	return "", false, false
}

// derives reports whether derived is base or one of its subtypes.
func (md *csdl) derives(derived, base string) bool {
	types, _ := md.chain(derived)
	for _, t := range types {
		if t.Name == base {
			return true
		}
	}
	return false
}

// bound finds the bound operation with the given name whose binding parameter has the given
// type: a local type name, or "Collection(name)" for an operation bound to a collection.
func (md *csdl) bound(name, binding string) *csdlOperation {
	want, wantColl, _ := md.local(binding)
	for _, op := range md.operations[name] {
		got, coll, ok := md.local(op.Binding)
		if ok && got == want && coll == wantColl {
			return op
		}
	}
	return nil
}

const sampleCSDL = `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EnumType Name="colour">
        <Member Name="red" Value="0" />
        <Member Name="blue" Value="1" />
      </EnumType>
      <EnumType Name="modes" IsFlags="true">
        <Member Name="fast" Value="1" />
      </EnumType>
      <EntityType Name="entity" Abstract="true">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
      </EntityType>
      <EntityType Name="directoryObject" BaseType="graph.entity" OpenType="true">
        <Property Name="deletedDateTime" Type="Edm.DateTimeOffset" />
      </EntityType>
      <EntityType Name="user" BaseType="microsoft.graph.directoryObject">
        <Property Name="displayName" Type="Edm.String">
          <Annotation Term="Org.OData.Core.V1.Description" String="Property Name=&quot;fake&quot;" />
        </Property>
        <Property Name="favourite" Type="graph.colour" />
        <Property Name="history" Type="Collection(graph.visit)" />
        <NavigationProperty Name="manager" Type="graph.directoryObject" />
      </EntityType>
      <ComplexType Name="visit">
        <Property Name="when" Type="Edm.DateTimeOffset" />
      </ComplexType>
      <Action Name="poke" IsBound="true">
        <Parameter Name="bindingParameter" Type="graph.user" />
        <Parameter Name="force" Type="Edm.Boolean" />
        <ReturnType Type="Edm.Boolean" />
      </Action>
      <Action Name="poke" IsBound="true">
        <Parameter Name="bindparameter" Type="graph.directoryObject" />
        <Parameter Name="gently" Type="Edm.Boolean" />
      </Action>
      <Function Name="delta" IsBound="true">
        <Parameter Name="bindingparameter" Type="Collection(graph.user)" />
        <ReturnType Type="Collection(graph.user)" />
      </Function>
      <Action Name="unbound">
        <Parameter Name="x" Type="Edm.String" />
      </Action>
    </Schema>
    <Schema Namespace="microsoft.graph.security" Alias="self" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityType Name="user" BaseType="self.account">
        <Property Name="securityOnly" Type="Edm.String" />
      </EntityType>
      <EnumType Name="colour">
        <Member Name="green" Value="0" />
      </EnumType>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>`

func TestParseCSDL(t *testing.T) {
	md, err := parseCSDL(strings.NewReader(sampleCSDL), graphNamespace)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}

	user := md.types["user"]
	if user == nil || user.Complex || user.BaseType != "microsoft.graph.directoryObject" {
		t.Fatalf("user = %+v, want the entity type of microsoft.graph", user)
	}
	if _, ok := user.Props["securityOnly"]; ok {
		t.Error("user has securityOnly: the security schema's user leaked into microsoft.graph")
	}
	if _, ok := user.Props["fake"]; ok {
		t.Error("an annotation's text was read as a property")
	}
	if !md.types["visit"].Complex || !md.types["directoryObject"].Open || !md.types["entity"].Abstract {
		t.Error("complex, open or abstract flag lost")
	}

	props := []struct {
		typ, prop, want string
		nav, ok         bool
	}{
		{"user", "displayName", "Edm.String", false, true},
		{"user", "deletedDateTime", "Edm.DateTimeOffset", false, true}, // from directoryObject
		{"user", "id", "Edm.String", false, true},                      // from entity, two levels up
		{"user", "manager", "graph.directoryObject", true, true},
		{"user", "securityOnly", "", false, false},
		{"user", "DisplayName", "", false, false}, // names are case-sensitive
		{"visit", "when", "Edm.DateTimeOffset", false, true},
		{"nosuch", "id", "", false, false},
	}
	for _, tc := range props {
		typ, nav, ok := md.property(tc.typ, tc.prop)
		if typ != tc.want || nav != tc.nav || ok != tc.ok {
			t.Errorf("property(%s, %s) = %q, %v, %v; want %q, %v, %v",
				tc.typ, tc.prop, typ, nav, ok, tc.want, tc.nav, tc.ok)
		}
	}

	if colour := md.enums["colour"]; colour == nil || !colour.Members["red"] || colour.Members["green"] {
		t.Errorf("colour = %+v, want red and blue only", colour)
	}
	if !md.enums["modes"].Flags {
		t.Error("modes lost IsFlags")
	}

	locals := []struct {
		ref, name string
		coll, ok  bool
	}{
		{"graph.user", "user", false, true},
		{"microsoft.graph.user", "user", false, true},
		{"Collection(graph.visit)", "visit", true, true},
		{"Edm.String", "Edm.String", false, false},
		{"self.user", "self.user", false, false},
		{"microsoft.graph.security.user", "microsoft.graph.security.user", false, false},
	}
	for _, tc := range locals {
		name, coll, ok := md.local(tc.ref)
		if name != tc.name || coll != tc.coll || ok != tc.ok {
			t.Errorf("local(%s) = %q, %v, %v; want %q, %v, %v", tc.ref, name, coll, ok, tc.name, tc.coll, tc.ok)
		}
	}

	if !md.derives("user", "entity") || md.derives("entity", "user") || md.derives("visit", "entity") {
		t.Error("derives does not follow the base type chain")
	}
	if _, err := md.chain("user"); err != nil {
		t.Errorf("chain(user): %v", err)
	}

	poke := md.bound("poke", "graph.user")
	if poke == nil || poke.Function || len(poke.Params) != 1 || poke.Params[0] != "force" ||
		poke.Returns != "Edm.Boolean" {
		t.Errorf("poke on user = %+v, want an action with parameter force returning Edm.Boolean", poke)
	}
	if p := md.bound("poke", "directoryObject"); p == nil || p.Params[0] != "gently" {
		t.Errorf("poke on directoryObject = %+v, want the overload with gently", p)
	}
	if md.bound("poke", "Collection(graph.user)") != nil {
		t.Error("poke matched a collection binding")
	}
	if delta := md.bound("delta", "Collection(user)"); delta == nil || !delta.Function {
		t.Errorf("delta on Collection(user) = %+v, want the function", delta)
	}
	if len(md.operations["unbound"]) != 0 {
		t.Error("an unbound action was read as bound")
	}
}

func TestParseCSDLErrors(t *testing.T) {
	if _, err := parseCSDL(strings.NewReader(sampleCSDL), "microsoft.graph.nosuch"); err == nil {
		t.Error("parse of a missing namespace succeeded")
	}
	if _, err := parseCSDL(strings.NewReader("<Schema><EntityType"), graphNamespace); err == nil {
		t.Error("parse of truncated XML succeeded")
	}
}

// TestGraphMetadataLoads guards the reader against the real file: if the layout it expects
// changed, every conformance check would pass vacuously.
func TestGraphMetadataLoads(t *testing.T) {
	md := graphMetadata(t)
	if n := len(md.types); n < 1000 {
		t.Errorf("read %d entity and complex types, want the full schema (over 1000)", n)
	}
	want := map[string][]string{
		"user":           {"userPrincipalName", "signInActivity", "id"},
		"managedDevice":  {"managementState", "deviceActionResults"},
		"signInActivity": {"lastSignInDateTime"},
	}
	for typ, props := range want {
		for _, p := range props {
			if _, _, ok := md.property(typ, p); !ok {
				t.Errorf("%s.%s not found in the metadata", typ, p)
			}
		}
	}
	// The security schema's user must not be mixed in.
	if _, _, ok := md.property("user", "emailAddress"); ok {
		t.Error("user has a property of another schema's user type")
	}
}

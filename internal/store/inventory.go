package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Tenant roles: every inventory row belongs to one of the project's two tenants.
const (
	Source = "source"
	Target = "target"
)

// Resource names one inventory table and its row in sync_state.
type Resource string

// The inventory resources, in the order a sync reports them.
const (
	Users               Resource = "users"
	ManagedDevices      Resource = "managed_devices"
	EntraDevices        Resource = "entra_devices"
	RegistrationDetails Resource = "registration_details"
	Domains             Resource = "domains"
)

// Resources lists every inventory resource.
var Resources = []Resource{Users, ManagedDevices, EntraDevices, RegistrationDetails, Domains}

// User is a row of users. Text fields are empty where Graph answered null; times are
// Graph's ISO 8601 strings.
type User struct {
	ID                   string
	UPN                  string
	DisplayName          string
	Mail                 string
	MailNickname         string
	EmployeeID           string
	AccountEnabled       *bool
	OnPremSync           bool
	UserType             string
	SessionsValidFrom    string
	LastSignIn           string
	LastSuccessfulSignIn string
	Department           string
	JobTitle             string
}

// ManagedDevice is a row of managed_devices (an Intune managed device).
type ManagedDevice struct {
	ID              string
	UserID          string
	UPN             string
	DeviceName      string
	OperatingSystem string
	OSVersion       string
	OwnerType       string
	AzureADDeviceID string
	SerialNumber    string
	EnrollmentType  string
	ManagementState string
	ComplianceState string
	EnrolledAt      string
	LastSyncAt      string
}

// EntraDevice is a row of entra_devices (a device object of the directory).
type EntraDevice struct {
	ID              string
	DeviceID        string
	DisplayName     string
	OperatingSystem string
	OSVersion       string
	TrustType       string
	AccountEnabled  *bool
	IsManaged       *bool
	IsCompliant     *bool
	RegisteredAt    string
	LastSignIn      string
}

// Registration is a row of registration_details: one user's line of the authentication
// methods registration report.
type Registration struct {
	UserID                string
	UPN                   string
	IsAdmin               bool
	IsMfaRegistered       bool
	IsMfaCapable          bool
	IsPasswordlessCapable bool
	MethodsRegistered     []string
	PreferredMethod       string
	LastUpdated           string
}

// Domain is a row of domains.
type Domain struct {
	Name               string
	IsVerified         bool
	IsDefault          bool
	IsInitial          bool
	AuthenticationType string
	SupportedServices  []string
}

// table describes how rows of one resource are written.
type table struct {
	name    string
	key     string // the id column, after tenant_role
	columns []string
}

var tables = map[Resource]table{
	Users: {"users", "id", []string{"upn", "display_name", "mail", "mail_nickname",
		"employee_id", "account_enabled", "on_prem_sync", "user_type", "sessions_valid_from",
		"last_sign_in", "last_successful_sign_in", "department", "job_title"}},
	ManagedDevices: {"managed_devices", "id", []string{"user_id", "upn", "device_name",
		"operating_system", "os_version", "owner_type", "azure_ad_device_id", "serial_number",
		"enrollment_type", "management_state", "compliance_state", "enrolled_at",
		"last_sync_at"}},
	EntraDevices: {"entra_devices", "id", []string{"device_id", "display_name",
		"operating_system", "os_version", "trust_type", "account_enabled", "is_managed",
		"is_compliant", "registered_at", "last_sign_in"}},
	RegistrationDetails: {"registration_details", "user_id", []string{"upn", "is_admin",
		"is_mfa_registered", "is_mfa_capable", "is_passwordless_capable", "methods_registered",
		"preferred_method", "last_updated"}},
	Domains: {"domains", "id", []string{"is_verified", "is_default", "is_initial",
		"authentication_type", "supported_services"}},
}

func (u User) values() []any {
	return []any{u.ID, u.UPN, null(u.DisplayName), null(u.Mail), null(u.MailNickname),
		null(u.EmployeeID), u.AccountEnabled, u.OnPremSync, null(u.UserType),
		null(u.SessionsValidFrom), null(u.LastSignIn), null(u.LastSuccessfulSignIn),
		null(u.Department), null(u.JobTitle)}
}

func (d ManagedDevice) values() []any {
	return []any{d.ID, null(d.UserID), null(d.UPN), null(d.DeviceName),
		null(d.OperatingSystem), null(d.OSVersion), null(d.OwnerType),
		null(d.AzureADDeviceID), null(d.SerialNumber), null(d.EnrollmentType),
		null(d.ManagementState), null(d.ComplianceState), null(d.EnrolledAt),
		null(d.LastSyncAt)}
}

func (d EntraDevice) values() []any {
	return []any{d.ID, null(d.DeviceID), null(d.DisplayName), null(d.OperatingSystem),
		null(d.OSVersion), null(d.TrustType), d.AccountEnabled, d.IsManaged, d.IsCompliant,
		null(d.RegisteredAt), null(d.LastSignIn)}
}

func (r Registration) values() []any {
	return []any{r.UserID, null(r.UPN), r.IsAdmin, r.IsMfaRegistered, r.IsMfaCapable,
		r.IsPasswordlessCapable, jsonList(r.MethodsRegistered), null(r.PreferredMethod),
		null(r.LastUpdated)}
}

func (d Domain) values() []any {
	return []any{d.Name, d.IsVerified, d.IsDefault, d.IsInitial, null(d.AuthenticationType),
		jsonList(d.SupportedServices)}
}

// null maps Graph's null (decoded as "") to SQL NULL.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// jsonList encodes a string collection as a JSON array ([] for none).
func jsonList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // a []string always encodes
	return string(b)
}

// SyncStart is what a sync of one resource begins from.
type SyncStart struct {
	// Generation numbers this sync; rows it writes are stamped with it.
	Generation int64
	// DeltaLink is the delta link the last completed sync stored, or "".
	DeltaLink string
}

// BeginSync starts a sync of one resource of one tenant: it takes the next generation
// number and returns the stored delta link. Nothing else changes until FinishSync, so an
// interrupted sync leaves the previous sync's state (and delta link) in place.
func (s *Store) BeginSync(ctx context.Context, role string, res Resource) (SyncStart, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var st SyncStart
	var link sql.NullString
	err := s.db.QueryRowContext(ctx, `INSERT INTO sync_state (tenant_role, resource, generation)
		VALUES (?, ?, 1)
		ON CONFLICT (tenant_role, resource) DO UPDATE SET generation = generation + 1
		RETURNING generation, delta_link`, role, string(res)).Scan(&st.Generation, &link)
	if err != nil {
		return st, fmt.Errorf("begin sync of %s %s: %w", role, res, err)
	}
	st.DeltaLink = link.String
	return st, nil
}

// PutUsers inserts or updates users in one transaction, stamping them with generation gen
// and clearing their deleted mark.
func (s *Store) PutUsers(ctx context.Context, role string, gen int64, rows []User) error {
	return putRows(ctx, s, Users, role, gen, rows, User.values)
}

// PutManagedDevices inserts or updates managed devices in one transaction.
func (s *Store) PutManagedDevices(ctx context.Context, role string, gen int64,
	rows []ManagedDevice) error {
	return putRows(ctx, s, ManagedDevices, role, gen, rows, ManagedDevice.values)
}

// PutEntraDevices inserts or updates Entra devices in one transaction.
func (s *Store) PutEntraDevices(ctx context.Context, role string, gen int64,
	rows []EntraDevice) error {
	return putRows(ctx, s, EntraDevices, role, gen, rows, EntraDevice.values)
}

// PutRegistrations inserts or updates registration report rows in one transaction.
func (s *Store) PutRegistrations(ctx context.Context, role string, gen int64,
	rows []Registration) error {
	return putRows(ctx, s, RegistrationDetails, role, gen, rows, Registration.values)
}

// PutDomains inserts or updates domains in one transaction.
func (s *Store) PutDomains(ctx context.Context, role string, gen int64, rows []Domain) error {
	return putRows(ctx, s, Domains, role, gen, rows, Domain.values)
}

// MarkDeleted marks rows of a resource deleted by id (a delta query's @removed items), in
// one transaction. Unknown ids are ignored.
func (s *Store) MarkDeleted(ctx context.Context, role string, res Resource, gen int64,
	ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	t := tables[res]
	return s.write(ctx, func(tx *sql.Tx) error {
		q := fmt.Sprintf(`UPDATE %s SET deleted = 1, seen = ? WHERE tenant_role = ? AND %s = ?`,
			t.name, t.key)
		stmt, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range ids {
			if _, err := stmt.ExecContext(ctx, gen, role, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// SyncResult is what FinishSync recorded.
type SyncResult struct {
	// Count is the number of rows of the tenant not marked deleted.
	Count int
	// Deleted is the number of rows this call marked deleted (full listings only).
	Deleted int
}

// FinishSync completes a sync. After a full listing (full), every row of the tenant that the
// listing did not write (an older generation) is marked deleted. The delta link ("" for
// none), the time and the count of live rows are stored in sync_state. It all commits in
// one transaction.
func (s *Store) FinishSync(ctx context.Context, role string, res Resource, gen int64,
	full bool, deltaLink string) (SyncResult, error) {
	t := tables[res]
	var r SyncResult
	err := s.write(ctx, func(tx *sql.Tx) error {
		if full {
			q := fmt.Sprintf(`UPDATE %s SET deleted = 1
				WHERE tenant_role = ? AND seen < ? AND deleted = 0`, t.name)
			res, err := tx.ExecContext(ctx, q, role, gen)
			if err != nil {
				return fmt.Errorf("mark unseen rows deleted: %w", err)
			}
			n, _ := res.RowsAffected()
			r.Deleted = int(n)
		}
		q := fmt.Sprintf(`SELECT count(*) FROM %s WHERE tenant_role = ? AND deleted = 0`, t.name)
		if err := tx.QueryRowContext(ctx, q, role).Scan(&r.Count); err != nil {
			return fmt.Errorf("count rows: %w", err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE sync_state
			SET delta_link = ?, synced_at = ?, count = ?
			WHERE tenant_role = ? AND resource = ?`,
			null(deltaLink), time.Now().UTC().Format(time.RFC3339), r.Count, role, string(res))
		return err
	})
	if err != nil {
		return r, fmt.Errorf("finish sync of %s %s: %w", role, res, err)
	}
	return r, nil
}

// SyncState is a row of sync_state.
type SyncState struct {
	TenantRole string
	Resource   Resource
	DeltaLink  string
	SyncedAt   time.Time // zero when no sync of the resource has completed
	Count      int
	Generation int64
}

// SyncStates returns the sync state of every resource synced at least once, by tenant
// role and resource.
func (s *Store) SyncStates(ctx context.Context) ([]SyncState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_role, resource, delta_link, synced_at,
		count, generation FROM sync_state ORDER BY tenant_role, resource`)
	if err != nil {
		return nil, fmt.Errorf("read sync state: %w", err)
	}
	defer rows.Close()
	var out []SyncState
	for rows.Next() {
		var st SyncState
		var link, at sql.NullString
		if err := rows.Scan(&st.TenantRole, &st.Resource, &link, &at, &st.Count,
			&st.Generation); err != nil {
			return nil, fmt.Errorf("read sync state: %w", err)
		}
		st.DeltaLink = link.String
		if at.Valid {
			st.SyncedAt, _ = time.Parse(time.RFC3339, at.String)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sync state: %w", err)
	}
	return out, nil
}

// write runs fn in one write transaction. Writes of this process are serialised by a mutex
// so that concurrent sync workers queue here instead of spinning in SQLite's busy handler;
// the busy timeout still covers other processes.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// rowsPerStatement is how many rows one INSERT carries. Multi-row statements cut the
// per-statement overhead of the driver; 100 rows of at most 16 columns stay far below
// SQLite's limit of 32,766 parameters.
const rowsPerStatement = 100

// putRows upserts rows of one resource in one transaction.
func putRows[T any](ctx context.Context, s *Store, res Resource, role string, gen int64,
	rows []T, values func(T) []any) error {
	if len(rows) == 0 {
		return nil
	}
	t := tables[res]
	err := s.write(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(rows); start += rowsPerStatement {
			chunk := rows[start:min(start+rowsPerStatement, len(rows))]
			args := make([]any, 0, len(chunk)*(len(t.columns)+4))
			for _, r := range chunk {
				args = append(args, role)
				args = append(args, values(r)...)
				args = append(args, gen)
			}
			if _, err := tx.ExecContext(ctx, t.upsertSQL(len(chunk)), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %d %s of %s: %w", len(rows), res, role, err)
	}
	return nil
}

// upsertSQL is an INSERT of n rows that updates rows already present. Statements are
// cached by row count, since every page but the last has the same size.
func (t table) upsertSQL(n int) string {
	key := t.name + "/" + fmt.Sprint(n)
	if q, ok := upsertCache.Load(key); ok {
		return q.(string)
	}
	cols := append(append([]string{"tenant_role", t.key}, t.columns...), "seen")
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", t.name, strings.Join(cols, ", "))
	b.WriteString(strings.TrimSuffix(strings.Repeat(row+",", n), ","))
	fmt.Fprintf(&b, " ON CONFLICT (tenant_role, %s) DO UPDATE SET ", t.key)
	for _, c := range append(t.columns, "seen") {
		fmt.Fprintf(&b, "%s = excluded.%s, ", c, c)
	}
	b.WriteString("deleted = 0")
	q := b.String()
	upsertCache.Store(key, q)
	return q
}

var upsertCache sync.Map

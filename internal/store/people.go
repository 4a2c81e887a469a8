package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Person is one row of the people table: who moves from which source account to which
// target account, under which names and in which wave.
type Person struct {
	ID           int64
	SourceUserID string
	// TargetUserID is empty while the target account is still to be provisioned.
	TargetUserID string
	StagingUPN   string
	FinalUPN     string
	// Wave is empty for a person not yet assigned to a wave.
	Wave       string
	Excluded   bool
	ImportedAt time.Time
}

// Wave is one row of the waves table. People is the number of people assigned to it, filled
// in by Waves only.
type Wave struct {
	Name        string
	WindowStart time.Time
	WindowEnd   time.Time
	GraceDays   int
	FromConfig  bool
	People      int
}

// InventoryUser is a user of one tenant as the last sync read it. Times are zero where Graph
// answered null or the value was not read; AccountEnabled is nil when not read.
type InventoryUser struct {
	Role                 string
	ID                   string
	UPN                  string
	DisplayName          string
	Mail                 string
	MailNickname         string
	EmployeeID           string
	AccountEnabled       *bool
	UserType             string
	SessionsValidFrom    time.Time
	LastSignIn           time.Time
	LastSuccessfulSignIn time.Time
	Deleted              bool
}

// InventoryDomain is a domain of one tenant as the last sync read it.
type InventoryDomain struct {
	Role     string
	Name     string
	Verified bool
	Default  bool
	Initial  bool
	Deleted  bool
}

// InventoryDevice is an Intune managed device of a user, with the state of its Entra device
// object when the inventory has one (EntraID empty otherwise).
type InventoryDevice struct {
	Role            string
	ID              string
	Name            string
	OS              string
	OSVersion       string
	Ownership       string
	SerialNumber    string
	ComplianceState string
	EnrolledAt      time.Time
	LastSyncAt      time.Time
	EntraID         string
	EntraEnabled    *bool
	TrustType       string
	Deleted         bool
}

// InventoryRegistration is a user's row of the authentication methods registration report.
type InventoryRegistration struct {
	Role              string
	UserID            string
	MFARegistered     bool
	MethodsRegistered string // JSON array of method names, as Graph reports them
	PreferredMethod   string
	LastUpdated       time.Time
}

// PeopleFilter selects people. The zero value selects everyone; the fields combine with AND.
type PeopleFilter struct {
	Wave       string
	Unassigned bool
	// Excluded keeps only excluded people when true, only included ones when false.
	Excluded *bool
	// Search keeps people whose any name or id contains it, without regard to case.
	Search string
	// Match holds attribute conditions (waves assign --filter).
	Match []Match
}

// Match is one attribute condition of a people filter. Value may contain * wildcards.
type Match struct {
	Field  string // one of MatchFields
	Value  string
	Negate bool
}

// matchColumns maps the fields a Match may name to SQL over people p, source user s and
// target user t.
var matchColumns = map[string]string{
	"upn":         "s.upn",
	"mail":        "s.mail",
	"displayName": "s.display_name",
	"employeeId":  "s.employee_id",
	"userType":    "s.user_type",
	"department":  "s.department",
	"jobTitle":    "s.job_title",
	"domain":      "substr(s.upn, instr(s.upn, '@') + 1)",
	"target":      "COALESCE(t.upn, p.staging_upn)",
	"final":       "p.final_upn",
	"wave":        "p.wave",
}

// MatchFields lists the fields a Match may name, for messages.
var MatchFields = []string{"upn", "mail", "displayName", "employeeId", "userType", "department",
	"jobTitle", "domain",
	"target", "final", "wave"}

// PersonView is a person with both accounts as the inventory knows them (Target is the zero
// value when the target account is not in the inventory).
type PersonView struct {
	Person
	Source InventoryUser
	Target InventoryUser
}

const userColumns = `tenant_role, id, upn, COALESCE(display_name, ''), COALESCE(mail, ''),
	COALESCE(mail_nickname, ''), COALESCE(employee_id, ''), account_enabled,
	COALESCE(user_type, ''), COALESCE(sessions_valid_from, ''), COALESCE(last_sign_in, ''),
	COALESCE(last_successful_sign_in, ''), deleted`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanUser(sc scanner) (InventoryUser, error) {
	var u InventoryUser
	var enabled sql.NullBool
	var valid, last, lastOK string
	err := sc.Scan(&u.Role, &u.ID, &u.UPN, &u.DisplayName, &u.Mail, &u.MailNickname,
		&u.EmployeeID, &enabled, &u.UserType, &valid, &last, &lastOK, &u.Deleted)
	if err != nil {
		return u, err
	}
	if enabled.Valid {
		u.AccountEnabled = &enabled.Bool
	}
	u.SessionsValidFrom, u.LastSignIn, u.LastSuccessfulSignIn = parseTime(valid), parseTime(last),
		parseTime(lastOK)
	return u, nil
}

// parseTime reads a stored ISO 8601 time; anything else is the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// InventoryUser finds a user of the tenant by object id or sign-in name (without regard to
// case), deleted ones included. ok is false when there is none.
//
// Lookups by name name their index: the users table has no statistics until SQLite is
// asked to gather them, and without them the planner prefers scanning the whole tenant
// through the primary key over an index lookup followed by a primary key lookup.
func (s *Store) InventoryUser(ctx context.Context, role, key string) (InventoryUser, bool, error) {
	row := s.db.QueryRowContext(ctx, `SELECT * FROM (
		SELECT `+userColumns+` FROM users WHERE tenant_role = ?1 AND id = lower(?2)
		UNION ALL SELECT `+userColumns+` FROM users INDEXED BY users_upn
		WHERE tenant_role = ?1 AND upn = ?2) ORDER BY deleted LIMIT 1`, role, key)
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("find %s user %s: %w", role, key, err)
	}
	return u, true, nil
}

// InventoryUsersNamed returns the tenant's users, deleted ones excluded, whose sign-in name
// or mail is name (without regard to case): the accounts a new sign-in name would collide
// with.
func (s *Store) InventoryUsersNamed(ctx context.Context, role, name string) ([]InventoryUser, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users INDEXED BY users_upn
		WHERE tenant_role = ?1 AND deleted = 0 AND upn = ?2
		UNION SELECT `+userColumns+` FROM users INDEXED BY users_mail
		WHERE tenant_role = ?1 AND deleted = 0 AND mail = ?2`, role, name)
	if err != nil {
		return nil, fmt.Errorf("find %s users named %s: %w", role, name, err)
	}
	return collectUsers(rows)
}

func collectUsers(rows *sql.Rows) ([]InventoryUser, error) {
	defer rows.Close()
	var us []InventoryUser
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("read user: %w", err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	return us, nil
}

// EachInventoryUser calls fn for every user of the tenant that is not deleted, in sign-in
// name order, without holding them all in memory. It stops at fn's first error.
func (s *Store) EachInventoryUser(ctx context.Context, role string, fn func(InventoryUser) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE tenant_role = ? AND deleted = 0 ORDER BY upn`, role)
	if err != nil {
		return fmt.Errorf("list %s users: %w", role, err)
	}
	defer rows.Close()
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return fmt.Errorf("read %s user: %w", role, err)
		}
		if err := fn(u); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list %s users: %w", role, err)
	}
	return nil
}

// InventoryDomains returns the tenant's domains that are not deleted, by name.
func (s *Store) InventoryDomains(ctx context.Context, role string) ([]InventoryDomain, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_role, id, is_verified, is_default,
		is_initial, deleted FROM domains WHERE tenant_role = ? AND deleted = 0 ORDER BY id`, role)
	if err != nil {
		return nil, fmt.Errorf("list %s domains: %w", role, err)
	}
	defer rows.Close()
	var ds []InventoryDomain
	for rows.Next() {
		var d InventoryDomain
		if err := rows.Scan(&d.Role, &d.Name, &d.Verified, &d.Default, &d.Initial, &d.Deleted); err != nil {
			return nil, fmt.Errorf("read %s domain: %w", role, err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s domains: %w", role, err)
	}
	return ds, nil
}

// InventoryDevices returns the Intune devices of a user in the tenant, with their Entra
// device objects, most recently enrolled first. Deleted devices are included, marked.
func (s *Store) InventoryDevices(ctx context.Context, role, userID string) ([]InventoryDevice, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT m.tenant_role, m.id, COALESCE(m.device_name, ''),
		COALESCE(m.operating_system, ''), COALESCE(m.os_version, ''), COALESCE(m.owner_type, ''),
		COALESCE(m.serial_number, ''), COALESCE(m.compliance_state, ''),
		COALESCE(m.enrolled_at, ''), COALESCE(m.last_sync_at, ''), COALESCE(e.id, ''),
		e.account_enabled, COALESCE(e.trust_type, ''), m.deleted
		FROM managed_devices m
		LEFT JOIN entra_devices e ON e.tenant_role = m.tenant_role
			AND e.device_id = m.azure_ad_device_id AND e.deleted = 0
		WHERE m.tenant_role = ? AND m.user_id = ?
		ORDER BY m.deleted, m.enrolled_at DESC, m.id`, role, userID)
	if err != nil {
		return nil, fmt.Errorf("list %s devices of %s: %w", role, userID, err)
	}
	defer rows.Close()
	var ds []InventoryDevice
	for rows.Next() {
		var d InventoryDevice
		var enrolled, synced string
		var enabled sql.NullBool
		if err := rows.Scan(&d.Role, &d.ID, &d.Name, &d.OS, &d.OSVersion, &d.Ownership,
			&d.SerialNumber, &d.ComplianceState, &enrolled, &synced, &d.EntraID, &enabled,
			&d.TrustType, &d.Deleted); err != nil {
			return nil, fmt.Errorf("read %s device: %w", role, err)
		}
		d.EnrolledAt, d.LastSyncAt = parseTime(enrolled), parseTime(synced)
		if enabled.Valid {
			d.EntraEnabled = &enabled.Bool
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s devices of %s: %w", role, userID, err)
	}
	return ds, nil
}

// InventoryRegistration returns the user's registration report row; ok is false when the
// report has none (not synced, or the user is not in it).
func (s *Store) InventoryRegistration(ctx context.Context, role, userID string) (InventoryRegistration, bool, error) {
	r := InventoryRegistration{Role: role, UserID: userID}
	var updated string
	var mfa sql.NullBool
	err := s.db.QueryRowContext(ctx, `SELECT is_mfa_registered, methods_registered,
		COALESCE(preferred_method, ''), COALESCE(last_updated, '')
		FROM registration_details WHERE tenant_role = ? AND user_id = ? AND deleted = 0`,
		role, userID).Scan(&mfa, &r.MethodsRegistered, &r.PreferredMethod, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("read %s registration of %s: %w", role, userID, err)
	}
	r.MFARegistered, r.LastUpdated = mfa.Bool, parseTime(updated)
	return r, true, nil
}

const personColumns = `p.id, p.source_user_id, COALESCE(p.target_user_id, ''),
	COALESCE(p.staging_upn, ''), p.final_upn, COALESCE(p.wave, ''), p.excluded, p.imported_at`

func scanPerson(sc scanner, extra ...any) (Person, error) {
	var p Person
	var imported string
	dest := append([]any{&p.ID, &p.SourceUserID, &p.TargetUserID, &p.StagingUPN, &p.FinalUPN,
		&p.Wave, &p.Excluded, &imported}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return p, err
	}
	p.ImportedAt = parseTime(imported)
	return p, nil
}

// AddPeople inserts people in one transaction: all of them or, on any error, none. IDs are
// assigned by the store and returned in order.
func (s *Store) AddPeople(ctx context.Context, people []Person) ([]int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin import: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO people (source_user_id, target_user_id,
		staging_upn, final_upn, wave, excluded, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("prepare import: %w", err)
	}
	defer stmt.Close()
	ids := make([]int64, 0, len(people))
	for _, p := range people {
		res, err := stmt.ExecContext(ctx, p.SourceUserID, nullable(p.TargetUserID),
			nullable(p.StagingUPN), p.FinalUPN, nullable(p.Wave), p.Excluded, formatTime(p.ImportedAt))
		if err != nil {
			return nil, fmt.Errorf("add person %s: %w", p.SourceUserID, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, fmt.Errorf("add person %s: %w", p.SourceUserID, err)
		}
		ids = append(ids, id)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit import: %w", err)
	}
	return ids, nil
}

// nullable maps "" to NULL, for optional columns with UNIQUE constraints.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// PeopleSharing returns the people that already hold any of p's source user, target user,
// staging name or final name: those a new person p would duplicate.
func (s *Store) PeopleSharing(ctx context.Context, p Person) ([]Person, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+personColumns+` FROM people p
		WHERE p.source_user_id = ?1 OR p.target_user_id = ?2 OR p.staging_upn = ?3
			OR p.final_upn = ?4 ORDER BY p.id`,
		p.SourceUserID, nullable(p.TargetUserID), nullable(p.StagingUPN), p.FinalUPN)
	if err != nil {
		return nil, fmt.Errorf("find people sharing names with %s: %w", p.SourceUserID, err)
	}
	defer rows.Close()
	var ps []Person
	for rows.Next() {
		q, err := scanPerson(rows)
		if err != nil {
			return nil, fmt.Errorf("read person: %w", err)
		}
		ps = append(ps, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read people: %w", err)
	}
	return ps, nil
}

// peopleViewSelect joins each person to both accounts.
var peopleViewSelect = `SELECT ` + personColumns + `, ` + prefixedUserColumns("s") + `, ` +
	prefixedUserColumns("t") + ` FROM people p
	LEFT JOIN users s ON s.tenant_role = 'source' AND s.id = p.source_user_id
	LEFT JOIN users t ON t.tenant_role = 'target' AND t.id = p.target_user_id`

// prefixedUserColumns is userColumns over alias a, NULL-safe for a missing row.
func prefixedUserColumns(a string) string {
	return strings.NewReplacer("{a}", a).Replace(`COALESCE({a}.tenant_role, ''), COALESCE({a}.id, ''),
	COALESCE({a}.upn, ''), COALESCE({a}.display_name, ''), COALESCE({a}.mail, ''),
	COALESCE({a}.mail_nickname, ''), COALESCE({a}.employee_id, ''), {a}.account_enabled,
	COALESCE({a}.user_type, ''), COALESCE({a}.sessions_valid_from, ''),
	COALESCE({a}.last_sign_in, ''), COALESCE({a}.last_successful_sign_in, ''),
	COALESCE({a}.deleted, 0)`)
}

// userScan collects the columns of one prefixedUserColumns group.
type userScan struct {
	u                   InventoryUser
	enabled             sql.NullBool
	valid, last, lastOK string
}

func (us *userScan) dest() []any {
	u := &us.u
	return []any{&u.Role, &u.ID, &u.UPN, &u.DisplayName, &u.Mail, &u.MailNickname,
		&u.EmployeeID, &us.enabled, &u.UserType, &us.valid, &us.last, &us.lastOK, &u.Deleted}
}

func (us *userScan) user() InventoryUser {
	u := us.u
	if us.enabled.Valid {
		u.AccountEnabled = &us.enabled.Bool
	}
	u.SessionsValidFrom, u.LastSignIn = parseTime(us.valid), parseTime(us.last)
	u.LastSuccessfulSignIn = parseTime(us.lastOK)
	return u
}

func (s *Store) queryViews(ctx context.Context, query string, args ...any) ([]PersonView, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list people: %w", err)
	}
	defer rows.Close()
	var vs []PersonView
	for rows.Next() {
		var src, tgt userScan
		p, err := scanPerson(rows, append(src.dest(), tgt.dest()...)...)
		if err != nil {
			return nil, fmt.Errorf("read person: %w", err)
		}
		vs = append(vs, PersonView{Person: p, Source: src.user(), Target: tgt.user()})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list people: %w", err)
	}
	return vs, nil
}

// People returns the people the filter selects, with their accounts, by source sign-in name.
func (s *Store) People(ctx context.Context, f PeopleFilter) ([]PersonView, error) {
	where, args, err := f.sql()
	if err != nil {
		return nil, err
	}
	return s.queryViews(ctx, peopleViewSelect+where+` ORDER BY s.upn, p.id`, args...)
}

// CountPeople returns the number of people the filter selects.
func (s *Store) CountPeople(ctx context.Context, f PeopleFilter) (int, error) {
	where, args, err := f.sql()
	if err != nil {
		return 0, err
	}
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM people p
		LEFT JOIN users s ON s.tenant_role = 'source' AND s.id = p.source_user_id
		LEFT JOIN users t ON t.tenant_role = 'target' AND t.id = p.target_user_id`+where,
		args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count people: %w", err)
	}
	return n, nil
}

// sql renders the filter as a WHERE clause with positional arguments.
func (f PeopleFilter) sql() (string, []any, error) {
	var conds []string
	var args []any
	if f.Wave != "" {
		conds, args = append(conds, "p.wave = ? COLLATE NOCASE"), append(args, f.Wave)
	}
	if f.Unassigned {
		conds = append(conds, "p.wave IS NULL")
	}
	if f.Excluded != nil {
		conds, args = append(conds, "p.excluded = ?"), append(args, *f.Excluded)
	}
	if f.Search != "" {
		var alts []string
		for _, col := range []string{"s.upn", "s.display_name", "s.mail", "s.id", "t.upn",
			"t.mail", "t.id", "p.staging_upn", "p.final_upn", "s.employee_id"} {
			alts = append(alts, col+` LIKE ? ESCAPE '\'`)
			args = append(args, "%"+likeEscape(f.Search)+"%")
		}
		conds = append(conds, "("+strings.Join(alts, " OR ")+")")
	}
	for _, m := range f.Match {
		col, ok := matchColumns[m.Field]
		if !ok {
			return "", nil, fmt.Errorf("unknown field %q (fields: %s)", m.Field,
				strings.Join(MatchFields, ", "))
		}
		pattern := strings.ReplaceAll(likeEscape(m.Value), "*", "%")
		cond := "COALESCE(" + col + `, '') LIKE ? ESCAPE '\'`
		if m.Negate {
			cond = "NOT (" + cond + ")"
		}
		conds, args = append(conds, cond), append(args, pattern)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// likeEscape escapes LIKE's wildcards so that a value matches only itself.
func likeEscape(v string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(v)
}

// FindPeople returns the people known by key: a person id, either account's object id,
// sign-in name or mail, the staging or the final sign-in name. Comparisons ignore case.
func (s *Store) FindPeople(ctx context.Context, key string) ([]PersonView, error) {
	var idArg any
	if id, err := strconv.ParseInt(key, 10, 64); err == nil {
		idArg = id
	}
	return s.queryViews(ctx, peopleViewSelect+` WHERE p.id IN (
		SELECT id FROM people WHERE id = ?1
		UNION SELECT id FROM people WHERE source_user_id = lower(?2)
		UNION SELECT id FROM people WHERE target_user_id = lower(?2)
		UNION SELECT id FROM people WHERE staging_upn = ?2
		UNION SELECT id FROM people WHERE final_upn = ?2
		UNION SELECT p2.id FROM people p2 WHERE p2.source_user_id IN (
			SELECT id FROM users INDEXED BY users_upn WHERE tenant_role = 'source' AND upn = ?2
			UNION SELECT id FROM users INDEXED BY users_mail WHERE tenant_role = 'source' AND mail = ?2)
		UNION SELECT p2.id FROM people p2 WHERE p2.target_user_id IN (
			SELECT id FROM users INDEXED BY users_upn WHERE tenant_role = 'target' AND upn = ?2
			UNION SELECT id FROM users INDEXED BY users_mail WHERE tenant_role = 'target' AND mail = ?2))
		ORDER BY p.id`, idArg, key)
}

// SetExcluded marks exactly the people with the given ids as excluded, in one transaction.
func (s *Store) SetExcluded(ctx context.Context, ids []int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin exclusions: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `UPDATE people SET excluded = 0 WHERE excluded = 1`); err != nil {
		return fmt.Errorf("clear exclusions: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE people SET excluded = 1 WHERE id = ?`, id); err != nil {
			return fmt.Errorf("exclude person %d: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit exclusions: %w", err)
	}
	return nil
}

// WaveNamed returns the wave called name (without regard to case); ok is false when there is
// none.
func (s *Store) WaveNamed(ctx context.Context, name string) (Wave, bool, error) {
	ws, err := s.queryWaves(ctx, ` WHERE w.name = ?`, name)
	if err != nil || len(ws) == 0 {
		return Wave{}, false, err
	}
	return ws[0], true, nil
}

// Waves returns every wave with its number of people, by window start.
func (s *Store) Waves(ctx context.Context) ([]Wave, error) {
	return s.queryWaves(ctx, "")
}

func (s *Store) queryWaves(ctx context.Context, where string, args ...any) ([]Wave, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT w.name, w.window_start, w.window_end,
		w.grace_days, w.from_config, (SELECT COUNT(*) FROM people p WHERE p.wave = w.name)
		FROM waves w`+where+` ORDER BY w.window_start, w.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list waves: %w", err)
	}
	defer rows.Close()
	var ws []Wave
	for rows.Next() {
		var w Wave
		var start, end string
		if err := rows.Scan(&w.Name, &start, &end, &w.GraceDays, &w.FromConfig, &w.People); err != nil {
			return nil, fmt.Errorf("read wave: %w", err)
		}
		w.WindowStart, w.WindowEnd = parseTime(start), parseTime(end)
		ws = append(ws, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list waves: %w", err)
	}
	return ws, nil
}

// ErrWaveExists is returned by CreateWave for a name already taken.
var ErrWaveExists = errors.New("wave already exists")

// CreateWave adds a wave that lives in the store only (FromConfig is ignored).
func (s *Store) CreateWave(ctx context.Context, w Wave, now time.Time) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO waves (name, window_start, window_end,
		grace_days, from_config, created_at) VALUES (?, ?, ?, ?, 0, ?)
		ON CONFLICT (name) DO NOTHING`,
		w.Name, formatTime(w.WindowStart), formatTime(w.WindowEnd), w.GraceDays, formatTime(now))
	if err != nil {
		return fmt.Errorf("create wave %s: %w", w.Name, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("create wave %s: %w", w.Name, ErrWaveExists)
	}
	return nil
}

// UpdateWave sets a wave's window and grace period. It does not check from_config: callers
// decide who may change which wave.
func (s *Store) UpdateWave(ctx context.Context, w Wave) error {
	res, err := s.db.ExecContext(ctx, `UPDATE waves SET window_start = ?, window_end = ?,
		grace_days = ? WHERE name = ?`,
		formatTime(w.WindowStart), formatTime(w.WindowEnd), w.GraceDays, w.Name)
	if err != nil {
		return fmt.Errorf("update wave %s: %w", w.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update wave %s: no such wave", w.Name)
	}
	return nil
}

// MirrorConfigWaves makes the waves declared in the configuration the store's config waves,
// in one transaction: each is inserted or overwritten (the configuration wins), and a config
// wave no longer declared becomes a store wave, so that its people keep their wave.
func (s *Store) MirrorConfigWaves(ctx context.Context, waves []Wave, now time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin mirroring waves: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `UPDATE waves SET from_config = 0`); err != nil {
		return fmt.Errorf("mirror waves: %w", err)
	}
	for _, w := range waves {
		if _, err := tx.ExecContext(ctx, `INSERT INTO waves (name, window_start, window_end,
			grace_days, from_config, created_at) VALUES (?1, ?2, ?3, ?4, 1, ?5)
			ON CONFLICT (name) DO UPDATE SET name = ?1, window_start = ?2, window_end = ?3,
			grace_days = ?4, from_config = 1`,
			w.Name, formatTime(w.WindowStart), formatTime(w.WindowEnd), w.GraceDays,
			formatTime(now)); err != nil {
			return fmt.Errorf("mirror wave %s: %w", w.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit mirrored waves: %w", err)
	}
	return nil
}

// AssignWave puts the people with the given ids in wave (empty: unassigns them), in one
// transaction.
func (s *Store) AssignWave(ctx context.Context, wave string, ids []int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin assigning %s: %w", wave, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, id := range ids {
		res, err := tx.ExecContext(ctx, `UPDATE people SET wave = ? WHERE id = ?`, nullable(wave), id)
		if err != nil {
			return fmt.Errorf("assign person %d to %s: %w", id, wave, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("assign person %d to %s: no such person", id, wave)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit assigning %s: %w", wave, err)
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "cutover.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenCreatesPrivateFileInWALMode(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()

	mode, err := s.JournalMode(ctx)
	if err != nil || mode != "wal" {
		t.Fatalf("journal mode = %q, %v; want wal", mode, err)
	}
	// Write something so SQLite creates the -wal and -shm files, then check all three.
	if _, err := s.DB().ExecContext(ctx,
		`INSERT INTO domains (tenant_role, id) VALUES ('source', 'contoso.com')`); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		fi, err := os.Stat(s.Path() + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != FileMode {
			t.Errorf("%s mode = %04o, want %04o", filepath.Base(s.Path()+suffix),
				fi.Mode().Perm(), FileMode)
		}
	}
}

func TestOpenSettings(t *testing.T) {
	s := openTemp(t)
	for _, tc := range []struct{ pragma, want string }{
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"synchronous", "1"}, // NORMAL
		{"cache_size", "-65536"},
		{"wal_autocheckpoint", "20000"},
	} {
		t.Run(tc.pragma, func(t *testing.T) {
			var got string
			if err := s.DB().QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%s = %s, want %s", tc.pragma, got, tc.want)
			}
		})
	}
}

func TestOpenRefusesReadableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cutover.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // umask may have narrowed it
		t.Fatal(err)
	}
	_, err := Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Open of a 0644 file: err = %v, want a refusal with the chmod hint", err)
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c d%20")
	path := filepath.Join(dir, "cutover.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the path given: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("files beside the project folder: %v, want only the folder", entries)
	}
}

func TestReopenIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cutover.db")
	ctx := t.Context()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx,
		`INSERT INTO users (tenant_role, id, upn) VALUES ('source', 'u1', 'a@contoso.com')`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(ms) {
		t.Fatalf("schema version = %d, %v; want %d", v, err, len(ms))
	}
	var rows, versions int
	s.DB().QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&rows)
	s.DB().QueryRowContext(ctx, `SELECT count(*) FROM schema_version`).Scan(&versions)
	if rows != 1 || versions != len(ms) {
		t.Errorf("after reopen: %d users, %d schema_version rows; want 1 and %d", rows, versions, len(ms))
	}
}

func TestUPNComparesWithoutCase(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if _, err := s.DB().ExecContext(ctx,
		`INSERT INTO users (tenant_role, id, upn) VALUES ('source', 'u1', 'Ada@Contoso.com')`); err != nil {
		t.Fatal(err)
	}
	var id string
	err := s.DB().QueryRowContext(ctx,
		`SELECT id FROM users WHERE tenant_role = 'source' AND upn = 'ada@contoso.COM'`).Scan(&id)
	if err != nil || id != "u1" {
		t.Fatalf("lookup by UPN in another case: %q, %v", id, err)
	}
}

func rawDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "m.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func migrationFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys["migrations/"+name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

func tableExists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var n int
	err := db.QueryRowContext(context.Background(),
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestMigrateAppliesInOrderOnce(t *testing.T) {
	db := rawDB(t)
	ctx := t.Context()
	v1 := migrationFS(map[string]string{
		"0001_a.sql": `CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);`,
	})
	if err := migrate(ctx, db, v1); err != nil {
		t.Fatal(err)
	}
	// 0002 depends on 0001's table, so it only works when applied after it; 0001 must not
	// run again (its INSERT would add a second row).
	v2 := migrationFS(map[string]string{
		"0001_a.sql": `CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);`,
		"0002_b.sql": `CREATE TABLE b AS SELECT x + 1 AS y FROM a;`,
	})
	for range 2 {
		if err := migrate(ctx, db, v2); err != nil {
			t.Fatal(err)
		}
	}
	var a, y, v int
	db.QueryRowContext(ctx, `SELECT count(*) FROM a`).Scan(&a)
	db.QueryRowContext(ctx, `SELECT y FROM b`).Scan(&y)
	db.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&v)
	if a != 1 || y != 2 || v != 2 {
		t.Errorf("rows in a = %d, b.y = %d, version = %d; want 1, 2, 2", a, y, v)
	}
}

func TestMigrateFailureRollsBack(t *testing.T) {
	db := rawDB(t)
	ctx := t.Context()
	fsys := migrationFS(map[string]string{
		"0001_a.sql": `CREATE TABLE a (x INTEGER);`,
		"0002_b.sql": `CREATE TABLE b (y INTEGER); INSERT INTO nowhere VALUES (1);`,
	})
	err := migrate(ctx, db, fsys)
	if err == nil || !strings.Contains(err.Error(), "0002_b") {
		t.Fatalf("err = %v, want the failing migration named", err)
	}
	if v, _ := schemaVersion(ctx, db); v != 1 {
		t.Errorf("version = %d, want 1", v)
	}
	if !tableExists(t, db, "a") || tableExists(t, db, "b") {
		t.Error("want table a kept and table b rolled back")
	}
}

func TestMigrateRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"gap", map[string]string{"0001_a.sql": "", "0003_c.sql": ""}, "expected version 2"},
		{"duplicate", map[string]string{"0001_a.sql": "", "0001_b.sql": ""}, "expected version 2"},
		{"not starting at 1", map[string]string{"0002_a.sql": ""}, "expected version 1"},
		{"bad name", map[string]string{"1_a.sql": ""}, "NNNN_name.sql"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := migrate(t.Context(), rawDB(t), migrationFS(tc.files))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	db := rawDB(t)
	ctx := t.Context()
	two := migrationFS(map[string]string{"0001_a.sql": "", "0002_b.sql": ""})
	if err := migrate(ctx, db, two); err != nil {
		t.Fatal(err)
	}
	err := migrate(ctx, db, migrationFS(map[string]string{"0001_a.sql": ""}))
	if err == nil || !strings.Contains(err.Error(), "newer cutover") {
		t.Fatalf("err = %v, want a refusal naming a newer cutover", err)
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cutover.db")
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := Open(t.Context(), path)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s := openTempAt(t, path)
	var rows, distinct int
	s.DB().QueryRowContext(t.Context(),
		`SELECT count(*), count(DISTINCT version) FROM schema_version`).Scan(&rows, &distinct)
	if rows != distinct || rows == 0 {
		t.Errorf("schema_version has %d rows for %d versions", rows, distinct)
	}
}

func openTempAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

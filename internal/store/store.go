// Package store keeps cutover's project state in one SQLite file (cutover.db): the inventory
// of both tenants, sync state and, through later migrations, people, waves and the journal.
//
// The driver is modernc.org/sqlite, a translation of SQLite to Go, so cutover stays one
// static binary without cgo. The database runs in WAL mode so that readers (status, the
// dashboard) never block the one writer, with a busy timeout so that two cutover processes
// on the same project wait for each other instead of failing, and with foreign keys on.
//
// The file holds user names, device serial numbers and sign-in times of two organisations,
// so it is created readable by its owner only (mode 0600) and Open refuses a file that
// others can read.
//
// Services do not depend on *Store directly: each declares the small interface it needs and
// *Store satisfies it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// FileMode is the permission the database file is created with and must keep.
const FileMode fs.FileMode = 0o600

// busyTimeoutMillis is how long a statement waits for another connection's write lock
// before failing with SQLITE_BUSY. A page of a sync commits in milliseconds, so five
// seconds only runs out when another process holds the lock for a long time.
const busyTimeoutMillis = 5000

// Store is an open project database. It is safe for concurrent use; writes are serialised
// by SQLite, and each write transaction takes the write lock when it begins (BEGIN
// IMMEDIATE) so that two writers never deadlock upgrading a read lock.
type Store struct {
	db      *sql.DB
	path    string
	writeMu sync.Mutex // serialises this process's write transactions
}

// Open opens the database at path, creating it with mode 0600 when it does not exist, and
// applies every migration the file has not seen yet. Open fails when the file is readable
// or writable by anyone but its owner, or when the database is newer than this binary.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.setUp(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// setUp checks the connection settings and brings the schema up to date.
func (s *Store) setUp(ctx context.Context) error {
	if err := s.enableWAL(ctx); err != nil {
		return err
	}
	if err := s.checkPragma(ctx, "foreign_keys", "1"); err != nil {
		return err
	}
	if err := s.checkPragma(ctx, "busy_timeout", fmt.Sprint(busyTimeoutMillis)); err != nil {
		return err
	}
	return migrate(ctx, s.db, migrationFiles)
}

// Close closes the database. Pending WAL content is checkpointed by SQLite when the last
// connection closes.
func (s *Store) Close() error {
	return s.db.Close()
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// DB returns the underlying database for packages that own their own tables (identity,
// journal). Callers must not change connection settings.
func (s *Store) DB() *sql.DB { return s.db }

// createPrivate creates path with FileMode unless it exists, then checks that the file is
// private. SQLite creates the -wal and -shm files with the database file's permissions, so
// a private database keeps its journal private too.
func createPrivate(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create store directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("create store %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create store %s: %w", path, err)
	}
	return checkPrivate(path)
}

// checkPrivate fails when group or others have any permission on the file.
func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("check store %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("store %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("store %s has mode %04o but holds personal data and must be private; "+
			"run: chmod 600 %s", path, perm, path)
	}
	return nil
}

// dsn builds the driver's connection string. The path goes in a file: URI (escaped, so a
// '?' or '#' in a folder name cannot end it); the _pragma settings run on every new
// connection of the pool, and _txlock makes BeginTx issue BEGIN IMMEDIATE.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis))
	q.Add("_pragma", "foreign_keys(1)")
	// NORMAL is durable across application crashes in WAL mode; a power loss can only lose
	// the last commits, which a rerun of sync or a resumed apply redoes from the journal.
	q.Add("_pragma", "synchronous(NORMAL)")
	// A sync inserts pages of rows with random GUID keys, so every page touches most of a
	// table's B-tree. A 64 MiB page cache (per connection; the sync writes through one)
	// keeps those trees in memory, and checkpointing every 20,000 WAL pages (80 MiB)
	// instead of 1,000 copies each tree page back once per many commits rather than once
	// per commit. Together they halve the time a 100,000-user sync spends writing.
	q.Add("_pragma", "cache_size(-65536)")
	q.Add("_pragma", "wal_autocheckpoint(20000)")
	q.Set("_txlock", "immediate")
	u := url.URL{Path: filepath.ToSlash(path)}
	return "file:" + u.EscapedPath() + "?" + q.Encode()
}

// enableWAL switches the database to write-ahead logging. The pragma answers with the mode
// now in force; file systems without shared memory (some network shares) answer with
// another mode, and the store refuses to run there rather than lose its concurrency.
func (s *Store) enableWAL(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return fmt.Errorf("set journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, not wal: put the project on a local disk", mode)
	}
	return nil
}

// checkPragma reads a pragma back and fails unless it has the expected value.
func (s *Store) checkPragma(ctx context.Context, name, want string) error {
	var got string
	if err := s.db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if got != want {
		return fmt.Errorf("%s is %s, want %s", name, got, want)
	}
	return nil
}

// JournalMode returns the journal mode in force ("wal" for every store Open returns).
func (s *Store) JournalMode(ctx context.Context) (string, error) {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return "", fmt.Errorf("read journal mode: %w", err)
	}
	return mode, nil
}

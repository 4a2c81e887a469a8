-- People and waves (package identity).
--
-- A wave is a named group of people with a migration window and a grace period before the
-- source accounts are blocked. Waves declared in cutover.yaml are mirrored here with
-- from_config = 1 and are changed only through the file; the others are created with
-- `cutover waves create`. Window times are RFC 3339 in UTC so that they sort as text.
CREATE TABLE waves (
    name         TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    window_start TEXT NOT NULL,
    window_end   TEXT NOT NULL,
    grace_days   INTEGER NOT NULL CHECK (grace_days >= 0),
    from_config  INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    CHECK (window_end > window_start)
) WITHOUT ROWID;

-- A person pairs a source user with a target user (users.id of each role). target_user_id is
-- NULL while the target account is still to be provisioned; staging_upn is then the name it
-- will be created with. final_upn is the sign-in name the person has once the domain has
-- moved. Each side, and each name, belongs to at most one person.
--
-- excluded mirrors cutover.yaml's exclusions (refreshed whenever a command loads the
-- project), so that an account excluded after its import is still never touched.
CREATE TABLE people (
    id             INTEGER PRIMARY KEY,
    source_user_id TEXT NOT NULL UNIQUE,
    target_user_id TEXT UNIQUE,
    staging_upn    TEXT UNIQUE COLLATE NOCASE,
    final_upn      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    wave           TEXT REFERENCES waves (name) ON UPDATE CASCADE,
    excluded       INTEGER NOT NULL DEFAULT 0,
    imported_at    TEXT NOT NULL
);
CREATE INDEX people_wave ON people (wave);

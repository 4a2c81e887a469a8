-- Inventory of both tenants as last read from Microsoft Graph, and the state of each sync.
--
-- Every inventory row is keyed by the tenant's role in the project ('source' or 'target')
-- and the Graph object id. Rows are never removed by a sync: an object that disappeared
-- from Graph keeps its row with deleted = 1, so people, plans and the journal that refer to
-- it still resolve. seen is the sync generation (sync_state.generation) that last listed the
-- row; a full listing marks rows of older generations deleted.
--
-- Times are Graph's ISO 8601 strings in UTC, NULL where Graph answered null. Names that
-- Entra compares without regard to case (UPN, mail, nickname, domain) collate NOCASE.

CREATE TABLE users (
    tenant_role             TEXT NOT NULL CHECK (tenant_role IN ('source', 'target')),
    id                      TEXT NOT NULL,
    upn                     TEXT NOT NULL COLLATE NOCASE,
    display_name            TEXT,
    mail                    TEXT COLLATE NOCASE,
    mail_nickname           TEXT COLLATE NOCASE,
    employee_id             TEXT,
    account_enabled         INTEGER,          -- 0, 1, NULL when not read
    on_prem_sync            INTEGER NOT NULL DEFAULT 0,
    user_type               TEXT,
    sessions_valid_from     TEXT,
    last_sign_in            TEXT,
    last_successful_sign_in TEXT,
    deleted                 INTEGER NOT NULL DEFAULT 0,
    seen                    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_role, id)
) WITHOUT ROWID;
CREATE INDEX users_upn ON users (tenant_role, upn);
CREATE INDEX users_mail ON users (tenant_role, mail);
CREATE INDEX users_employee_id ON users (tenant_role, employee_id);

-- Intune managed devices (deviceManagement/managedDevices).
CREATE TABLE managed_devices (
    tenant_role        TEXT NOT NULL CHECK (tenant_role IN ('source', 'target')),
    id                 TEXT NOT NULL,
    user_id            TEXT,
    upn                TEXT COLLATE NOCASE,
    device_name        TEXT,
    operating_system   TEXT,
    os_version         TEXT,
    owner_type         TEXT,                  -- company | personal | unknown
    azure_ad_device_id TEXT,                  -- entra_devices.device_id
    serial_number      TEXT,
    enrollment_type    TEXT,
    management_state   TEXT,
    compliance_state   TEXT,
    enrolled_at        TEXT,
    last_sync_at       TEXT,
    deleted            INTEGER NOT NULL DEFAULT 0,
    seen               INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_role, id)
) WITHOUT ROWID;
CREATE INDEX managed_devices_user ON managed_devices (tenant_role, user_id);
CREATE INDEX managed_devices_aad ON managed_devices (tenant_role, azure_ad_device_id);

-- Entra device objects (devices). id is the object id; device_id is the id Intune and the
-- device itself use.
CREATE TABLE entra_devices (
    tenant_role       TEXT NOT NULL CHECK (tenant_role IN ('source', 'target')),
    id                TEXT NOT NULL,
    device_id         TEXT,
    display_name      TEXT,
    operating_system  TEXT,
    os_version        TEXT,
    trust_type        TEXT,                   -- AzureAd | ServerAd | Workplace
    account_enabled   INTEGER,
    is_managed        INTEGER,
    is_compliant      INTEGER,
    registered_at     TEXT,
    last_sign_in      TEXT,
    deleted           INTEGER NOT NULL DEFAULT 0,
    seen              INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_role, id)
) WITHOUT ROWID;
CREATE INDEX entra_devices_device_id ON entra_devices (tenant_role, device_id);

-- The authentication methods registration report, one row per user (user_id = users.id).
CREATE TABLE registration_details (
    tenant_role             TEXT NOT NULL CHECK (tenant_role IN ('source', 'target')),
    user_id                 TEXT NOT NULL,
    upn                     TEXT COLLATE NOCASE,
    is_admin                INTEGER,
    is_mfa_registered       INTEGER,
    is_mfa_capable          INTEGER,
    is_passwordless_capable INTEGER,
    methods_registered      TEXT NOT NULL DEFAULT '[]',  -- JSON array of method names
    preferred_method        TEXT,             -- userPreferredMethodForSecondaryAuthentication
    last_updated            TEXT,
    deleted                 INTEGER NOT NULL DEFAULT 0,
    seen                    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_role, user_id)
) WITHOUT ROWID;

-- Domains of each tenant; id is the domain name.
CREATE TABLE domains (
    tenant_role         TEXT NOT NULL CHECK (tenant_role IN ('source', 'target')),
    id                  TEXT NOT NULL COLLATE NOCASE,
    is_verified         INTEGER NOT NULL DEFAULT 0,
    is_default          INTEGER NOT NULL DEFAULT 0,
    is_initial          INTEGER NOT NULL DEFAULT 0,
    authentication_type TEXT,                 -- Managed | Federated
    supported_services  TEXT NOT NULL DEFAULT '[]',  -- JSON array
    deleted             INTEGER NOT NULL DEFAULT 0,
    seen                INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_role, id)
) WITHOUT ROWID;

-- One row per tenant and resource ('users', 'managed_devices', 'entra_devices',
-- 'registration_details', 'domains'). delta_link is Graph's @odata.deltaLink for resources
-- read through delta (users), NULL otherwise or after a full listing that did not finish.
-- generation counts the syncs of the resource; synced_at and count describe the last one
-- that completed (count: rows not deleted).
CREATE TABLE sync_state (
    tenant_role TEXT NOT NULL CHECK (tenant_role IN ('source', 'target')),
    resource    TEXT NOT NULL,
    delta_link  TEXT,
    synced_at   TEXT,
    count       INTEGER NOT NULL DEFAULT 0,
    generation  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_role, resource)
) WITHOUT ROWID;

-- Accounts (issue 19): people who claimed a name, their signed-in browsers, and invite
-- links. Tokens (sessions, invites) are stored only as their SHA-256: a copy of this file
-- signs nobody in. Times are milliseconds since 1970, as in the chat tables.

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    -- The name as its owner typed it, what pages and chat show.
    name       TEXT    NOT NULL,
    -- The name as names are compared (NFKC, lower case): `Bob` and `ｂｏｂ` are `bob`.
    key        TEXT    NOT NULL UNIQUE,
    -- How this person proves who they are: 'password' today. A passkey would add a kind
    -- here and a table of its public keys beside this one.
    credential TEXT    NOT NULL DEFAULT 'password' CHECK (credential IN ('password')),
    -- argon2id, as a PHC string (its parameters and salt inside).
    password   TEXT    NOT NULL,
    admin      INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    -- 1 once removed (`duet user remove`): nobody signs in as it, and its name stays
    -- taken, since its history is still there. `--purge` deletes the row and the history.
    removed    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY,
    -- SHA-256 of the cookie's 256-bit token.
    token_hash BLOB    NOT NULL UNIQUE,
    -- What pages and the hub call the session (random hex): never the token.
    public_id  TEXT    NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- From the browser's User-Agent, e.g. "Firefox on Linux".
    device     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- "Keep me signed in": the cookie outlives the browser session.
    keep       INTEGER NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE invites (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE,
    -- Who made it; NULL for the operator's (`duet invite create`, the first admin's link).
    maker      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- The only name it may create, if its maker pinned one.
    name       TEXT,
    uses_left  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- The account it creates is an administrator (the first account's link).
    admin      INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- Chat: conversations (one to one or groups), their members, messages, and which
-- messages each recipient's page has not yet received.

CREATE TABLE conversations (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('direct', 'group')),
    -- A group's name; for a one-to-one conversation its two user names, sorted,
    -- joined by a newline (which no name can hold).
    name       TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, name)
);

CREATE TABLE members (
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    user            TEXT    NOT NULL,
    -- The newest message id this user has read here (for unread counts).
    last_read       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user)
) WITHOUT ROWID;

CREATE INDEX members_by_user ON members (user);

CREATE TABLE messages (
    -- AUTOINCREMENT: an id is never reused, so pages can tell messages apart by it.
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    sender          TEXT    NOT NULL,
    -- The sending page's own id; a second send with the same one is the same message.
    -- NULL for the server's own lines (missed calls).
    client_id       TEXT,
    kind            TEXT    NOT NULL CHECK (kind IN ('text', 'missed_call')),
    body            TEXT    NOT NULL,
    reason          TEXT,
    created_at      INTEGER NOT NULL,
    UNIQUE (sender, client_id)
);

CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

-- One row per recipient and message until that recipient's page confirms it got it.
CREATE TABLE pending (
    user       TEXT    NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    PRIMARY KEY (user, message_id)
) WITHOUT ROWID;

CREATE INDEX pending_by_message ON pending (message_id);

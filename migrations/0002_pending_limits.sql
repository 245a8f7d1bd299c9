-- Bounds on what waits for a page: how many messages wait for each recipient (kept by
-- triggers, so the per-recipient cap is checked without counting rows), and which
-- messages the server stopped waiting for (expired, or beyond the cap), which are then
-- never shown as delivered.

CREATE TABLE pending_counts (
    user TEXT    PRIMARY KEY,
    n    INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO pending_counts (user, n) SELECT user, COUNT(*) FROM pending GROUP BY user;

CREATE TRIGGER pending_counted AFTER INSERT ON pending BEGIN
    INSERT INTO pending_counts (user, n) VALUES (NEW.user, 1)
        ON CONFLICT (user) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER pending_uncounted AFTER DELETE ON pending BEGIN
    UPDATE pending_counts SET n = n - 1 WHERE user = OLD.user;
    DELETE FROM pending_counts WHERE user = OLD.user AND n <= 0;
END;

-- 1 once some recipient's page stopped being waited for before it confirmed the message.
ALTER TABLE messages ADD COLUMN abandoned INTEGER NOT NULL DEFAULT 0;

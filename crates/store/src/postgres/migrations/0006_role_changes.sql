-- 6: who set a user's roles and when (creation included), so that the policy can keep one
-- person from both making an account and loading the register rows it acts on. `set_by` is a
-- label (`staff:S1006`, `cli:operator`), NULL when the caller did not say. Accounts made before
-- this have no row: who set their roles is not known. A small reference table under Citus.
CREATE TABLE user_role_changes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    roles TEXT NOT NULL,
    set_by TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX user_role_changes_user ON user_role_changes (user_id, id);

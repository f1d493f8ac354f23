-- 7: what each user was shown: a read may be opened by id only if a search page or an alert
-- showed it to the same user under the same purpose code and file number within the policy's
-- window. One row per (user, read, purpose, file), the latest time kept; pruned past the
-- window. `via` is `search` or `alert`.
CREATE TABLE disclosures (
    user_id BIGINT NOT NULL,
    read_id BIGINT NOT NULL,
    purpose_code TEXT NOT NULL,
    file_number TEXT NOT NULL,
    at BIGINT NOT NULL,
    via TEXT NOT NULL,
    PRIMARY KEY (user_id, read_id, purpose_code, file_number)
);
CREATE INDEX disclosures_at ON disclosures (at);

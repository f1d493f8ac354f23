-- 5: a tracking decision records whether its watch is fuzzy (it then alerts on every plate
-- sharing its plate's confusion-class key, not on its plate alone).
ALTER TABLE decisions ADD COLUMN fuzzy BOOLEAN NOT NULL DEFAULT FALSE;

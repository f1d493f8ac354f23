-- 10: the open incident files a member of staff may state, listed for them: those of a
-- district by opening time, and those assigned to them (one row per staff id and file, kept
-- with the file's row; `assigned_staff` stays the record as imported).
CREATE INDEX reg_incidents_district ON reg_incidents (lower(district), opened_at);
CREATE TABLE reg_incident_staff (
    staff_id TEXT NOT NULL,
    file_number TEXT NOT NULL,
    PRIMARY KEY (staff_id, file_number)
);
CREATE INDEX reg_incident_staff_file ON reg_incident_staff (file_number);
INSERT INTO reg_incident_staff (staff_id, file_number)
    SELECT DISTINCT s, file_number
    FROM reg_incidents, unnest(string_to_array(assigned_staff, ';')) AS s
    WHERE s <> '';

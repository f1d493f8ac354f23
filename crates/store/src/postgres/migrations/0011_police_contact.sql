-- 11: whom a network's own staff call at the police about a vehicle of interest, and, on each
-- alert, the site's street address and that contact as they were when it was raised (an alert
-- is a record of what its receiver was told).
ALTER TABLE networks ADD COLUMN police_contact TEXT;
ALTER TABLE alerts ADD COLUMN site_address TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN police_contact TEXT;

-- Department and job title of users, so that waves can be filled by department
-- (cutover waves assign --filter department=Sales).
ALTER TABLE users ADD COLUMN department TEXT;
ALTER TABLE users ADD COLUMN job_title TEXT;

-- Admin portal: page through users in a stable order, and filter the audit log by target and actor.
CREATE INDEX users_created_idx ON users (created_at, id);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);
CREATE INDEX audit_log_actor_idx ON audit_log (lower(actor_email));

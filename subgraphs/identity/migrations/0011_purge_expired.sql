-- The identity.purge-expired system job deletes ended sessions after their retention and one-time
-- tokens once expired. None of these tables holds tenant data.
GRANT DELETE ON identity.sessions TO numezis_identity_app;
GRANT DELETE ON identity.email_verifications TO numezis_identity_app;
GRANT DELETE ON identity.password_resets TO numezis_identity_app;

-- User management, variant: the JWT is signed in SQL, not by pgwsgi.
--
-- For teams that want the token built in SQL, for example so that the same
-- functions also work under PostgREST, which stopped signing `jwt_claims`
-- results after its early versions. It adds
--
--   api.login_token(email, pass) returns text      web_anon
--
-- which checks the password like api.login and returns a complete HS256 JWT
-- (header.payload.signature, base64url, signed with pgcrypto's hmac(), which
-- user-management.sql installs in schema `extensions`, usable by auth_owner
-- only). The function returns text, not auth.jwt_claims, so pgwsgi answers it
-- as a plain JSON string ("eyJ...") and its own signing (jwt-sign-claims) is
-- not involved.
--
-- The secret is read with current_setting('app.settings.jwt_secret'), which
-- pgwsgi sets in every request from its config:
--
--   jwt-secret = "<at least 32 characters>"
--   app.settings.jwt_secret = "<the same value>"       # or PGRST_APP_SETTINGS_JWT_SECRET
--
-- (jwt-secret must be the same raw string, without jwt-secret-is-base64, so
-- that pgwsgi accepts the tokens it did not sign.) Keep the secret out of the
-- database itself: no ALTER DATABASE ... SET app.settings.jwt_secret, which
-- every role able to connect could read with current_setting().
--
-- Load deploy/examples/user-management.sql first, then this file, as a
-- superuser:
--   psql -v ON_ERROR_STOP=1 -f deploy/examples/user-management-sql-signing.sql "$SUPERUSER_DSN"
-- Running it again is safe.

begin;

set local client_min_messages = warning;

do $check$
begin
  if pg_catalog.to_regprocedure('auth.authenticate(text, text)') is null then
    raise exception 'load deploy/examples/user-management.sql first';
  end if;
  -- Older versions of user-management.sql installed pgcrypto in `public`.
  if pg_catalog.to_regprocedure('extensions.hmac(bytea, bytea, text)') is null then
    raise exception 'pgcrypto''s hmac() is not in schema extensions'
      using hint = 'load the current deploy/examples/user-management.sql first: it installs pgcrypto there.';
  end if;
end
$check$;

-- base64url without padding (RFC 7515, section 2). encode(..., 'base64')
-- breaks lines every 76 characters: translate() drops the newlines (the third
-- character of its second argument has no counterpart in the third).
create or replace function auth.base64url(data bytea) returns text
language sql immutable strict
set search_path = ''
as $$
  select pg_catalog.rtrim(pg_catalog.translate(pg_catalog.encode(data, 'base64'), E'+/\n', '-_'), '=')
$$;

-- An HS256 JWT carrying PAYLOAD, signed with SECRET.
create or replace function auth.sign_hs256(payload jsonb, secret text) returns text
language sql immutable strict
set search_path = ''
as $$
  select s.signing_input || '.'
         || auth.base64url(extensions.hmac(pg_catalog.convert_to(s.signing_input, 'UTF8'),
                                           pg_catalog.convert_to(secret, 'UTF8'), 'sha256'))
  from (select auth.base64url(pg_catalog.convert_to('{"alg":"HS256","typ":"JWT"}', 'UTF8'))
               || '.' || auth.base64url(pg_catalog.convert_to(payload::text, 'UTF8')) as signing_input) s
$$;

alter function auth.base64url(bytea) owner to auth_owner;
alter function auth.sign_hs256(jsonb, text) owner to auth_owner;
revoke all on function auth.base64url(bytea), auth.sign_hs256(jsonb, text) from public;

create or replace function api.login_token(email text, pass text) returns text
language plpgsql security definer
set search_path = ''
as $$
declare
  secret text := pg_catalog.current_setting('app.settings.jwt_secret', true);
  claims auth.jwt_claims;
begin
  perform auth.require_post();
  if secret is null or pg_catalog.length(secret) < 32 then
    raise config_file_error using
      message = 'app.settings.jwt_secret is not set or shorter than 32 characters',
      hint = 'Set app.settings.jwt_secret in the pgwsgi config to the value of jwt-secret.';
  end if;
  claims := auth.authenticate(login_token.email, login_token.pass);
  return auth.sign_hs256(pg_catalog.jsonb_build_object('role', claims.role, 'email', claims.email, 'exp', claims.exp),
                         secret);
end
$$;
comment on function api.login_token(text, text) is 'Log in: answered with an HS256 JWT signed in SQL, valid one hour. 403 on a wrong email or password.';

alter function api.login_token(text, text) owner to auth_owner;
revoke all on function api.login_token(text, text) from public;
grant execute on function api.login_token(text, text) to web_anon;

notify pgrst, 'reload schema';

commit;

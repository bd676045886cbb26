-- AWS credentials from STS AssumeRoleWithWebIdentity: an OIDC token (the
-- file EKS and GitHub Actions provide through AWS_WEB_IDENTITY_TOKEN_FILE,
-- or the token of another recipe, -p identity_recipe=NAME) exchanged for
-- temporary keys.  The request is unsigned, as the API allows; STS
-- answers in XML (its Query protocol).  `-f aws-credential-process` gives
-- the AWS CLI and SDKs what credential_process expects.
local RESULT = 'AssumeRoleWithWebIdentityResponse.AssumeRoleWithWebIdentityResult.'
local CREDS = RESULT .. 'Credentials.'

return {
  name = 'aws_web_identity',
  description = 'AWS keys from STS AssumeRoleWithWebIdentity (an OIDC token exchanged)',
  params = {
    { name = 'role_arn', env = 'AWS_ROLE_ARN', required = true, pattern = '^arn:aws[%w-]*:iam::%d+:role/.+$',
      description = 'the role to assume (arn:aws:iam::ACCOUNT:role/NAME)' },
    { name = 'role_session_name', env = 'AWS_ROLE_SESSION_NAME', default = 'tokrun', pattern = '^[%w+=,.@-]+$',
      description = 'names the session in CloudTrail' },
    { name = 'duration', env = 'AWS_ROLE_DURATION_SECONDS', type = 'integer', default = 3600,
      description = 'seconds the keys live (900 to the role\'s maximum)' },
    { name = 'web_identity_token', env = 'AWS_WEB_IDENTITY_TOKEN', secret = true,
      description = 'the OIDC token; AWS_WEB_IDENTITY_TOKEN_FILE names a file holding it' },
    { name = 'identity_recipe', description = 'a recipe whose token is the web identity token (instead of the file)' },
    { name = 'sts_url', env = 'AWS_ENDPOINT_URL_STS', default = 'https://sts.amazonaws.com/',
      description = 'the STS endpoint (a regional one: https://sts.REGION.amazonaws.com/)' },
  },
  uses = { identity = '{identity_recipe}' },
  derive = {
    web_identity = { '{use.identity.token}', '{web_identity_token}',
      missing = 'set AWS_WEB_IDENTITY_TOKEN_FILE (a file holding the OIDC token) or -p identity_recipe=RECIPE' },
  },
  steps = {
    { name = 'assume_role', method = 'POST', url = '{sts_url}',
      form = { { 'Action', 'AssumeRoleWithWebIdentity' }, { 'Version', '2011-06-15' },
               { 'RoleArn', '{role_arn}' }, { 'RoleSessionName', '{role_session_name}' },
               { 'WebIdentityToken', '{web_identity}' }, { 'DurationSeconds', '{duration}' } },
      parse = 'xml', resend = 'safe',
      code_from = 'ErrorResponse.Error.Code', message_from = 'ErrorResponse.Error.Message',
      capture = {
        access_key_id = CREDS .. 'AccessKeyId',
        secret_access_key = { path = CREDS .. 'SecretAccessKey', secret = true },
        session_token = { path = CREDS .. 'SessionToken', secret = true },
        expiration = { path = CREDS .. 'Expiration', as = 'rfc3339' },
        assumed_role = { path = RESULT .. 'AssumedRoleUser.Arn', optional = true },
      } },
  },
  errors = {   -- STS's documented error codes
    { code = { 'InvalidIdentityToken', 'ExpiredTokenException', 'IDPRejectedClaim', 'AccessDenied' }, kind = 'auth' },
    { code = { 'ValidationError', 'MalformedPolicyDocument', 'PackedPolicyTooLarge', 'RegionDisabledException' },
      kind = 'config' },
    { code = 'IDPCommunicationError', kind = 'provider', hint = 'STS could not reach the identity provider; retry' },
    { code = 'Throttling', kind = 'rate_limited' },
  },
  emit = {
    token = '{session_token}', token_type = 'aws_session', expires_at = '{expiration}',
    access_key_id = '{access_key_id}', secret_access_key = '{secret_access_key}', session_token = '{session_token}',
    data = { access_key_id = '{access_key_id}', assumed_role = '{assumed_role}' },
    env = { AWS_ACCESS_KEY_ID = '{access_key_id}', AWS_SECRET_ACCESS_KEY = '{secret_access_key}',
            AWS_SESSION_TOKEN = '{session_token}' },
  },
}

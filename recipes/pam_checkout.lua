-- PAM (NetIQ-style): check a privileged password out for a host, and check
-- it in again as the lease's release.  The body's `status` counts even when
-- HTTP says 200; a checkout is never re-sent once it reached the server.
local checkin = { Request = { type = 'PasswordCheckin', runHost = '{run_host}' } }
return {
  name = 'pam_checkout',
  description = 'Privileged password checkout (NetIQ-style PAM), checked in on release',
  params = {
    { name = 'base_url', env = 'PAM_BASE_URL', required = true },
    { name = 'api_token', env = 'PAM_API_TOKEN', secret = true, required = true },
    { name = 'run_host', env = 'PAM_RUN_HOST', required = true, description = 'host the password is for' },
    { name = 'reason', env = 'PAM_REASON', required = true },
    { name = 'duration', env = 'PAM_DURATION', type = 'integer', default = 30, description = 'minutes' },
    { name = 'email', env = 'PAM_EMAIL' },
  },
  steps = {
    { name = 'checkout', method = 'POST', url = '{base_url}/rest/cmdctrl/Request',
      headers = { Authorization = 'Token token={api_token}' },
      json = { Request = { type = 'PasswordCheckout', runHost = '{run_host}', reason = '{reason}',
        duration = '{duration|string}', emailid = '{email}' } },
      status_from = 'status', expect = { status = 200 }, message_from = 'message',
      capture = {
        lease_id = { path = 'CheckOut.Request.id', as = 'string' },
        account = 'CheckOut.account',
        password = { path = 'CheckOut.passwd', secret = true },
      } },
  },
  emit = {
    token = '{password}', token_type = 'password', ttl = { minutes = '{duration}' },
    data = { account = '{account}', lease = { id = '{lease_id}' } },
    env = { PAM_ACCOUNT = '{account}', PAM_PASSWORD = '{password}', PAM_LEASE_ID = '{lease_id}' },
  },
  release = { lease = 'lease_id', steps = {
    { name = 'checkin', method = 'PUT', url = '{base_url}/rest/cmdctrl/Request/{lease_id}',
      headers = { Authorization = 'Token token={api_token}' }, json = checkin,
      status_from = 'status', expect = { status = 200 }, message_from = 'message' },
  } },
}

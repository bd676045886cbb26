-- The recipe language, declared once.  Every word a recipe may use is an
-- entry here: where it may appear (its context), what value it takes and a
-- one-line description.  `tokrun check` (recipe.validate), docs/recipes.md,
-- the tokrun-recipe(5) man page and the editor annotations are all made
-- from this table; a word that is not here does not exist.
--
-- A word is { doc = 'one line', <value> [, required = true] [, kinds = {...}] }
-- where <value> is one of:
--   type = 'string' | 'integer' | 'number' | 'boolean'
--   template = true       a string that may hold {placeholders}, or a function(vars)
--   value = true          a template, or a number, boolean or table of templates
--   enum = { ... }        one of these (strings or numbers)
--   context = 'name'      a table of the words of that context
--   list = 'name'         a list of such tables (list = 'template' | 'value' | 'enum':
--                         of templates, of scalars, of the word's enum values)
--   map = 'name'          NAME -> such a table (map = 'template': NAME -> template)
--   custom = 'name'       checked by the named function in recipe.lua (shapes a
--                         table of words cannot say); `shape` says it for docs
-- and optionally min = N (numbers), pattern = '^...$' (strings), names =
-- '^...$' (the keys of a map), kinds = { 'http' } (step words of those kinds).
local M = {}

local METHODS = { 'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS' }
local KINDS = { 'usage', 'recipe', 'config', 'auth', 'provider', 'network', 'tls', 'timeout',
  'protocol', 'rate_limited', 'locked', 'io', 'release' }

-- RFC 9110 token characters: a header or query name goes on the wire as is.
M.TOKEN = "^[!#$%%&'*+.^_`|~%w-]+$"
M.ENV_NAME = '^[A-Za-z_][A-Za-z0-9_]*$'

-- The order contexts are documented in.
M.order = { 'recipe', 'param', 'step', 'sign', 'sign_into', 'jwt', 'jwt_time', 'auth', 'expect', 'capture',
  'rule', 'run', 'emit', 'ttl', 'release' }

M.contexts = {
  recipe = {
    doc = 'The table a recipe file returns.',
    name = { type = 'string', required = true, pattern = '^[%w_.-]+$',
      doc = 'the recipe\'s name, printed as "recipe" in the result' },
    description = { type = 'string', doc = 'one line shown by `tokrun list` and `tokrun --help RECIPE`' },
    capabilities = { list = 'enum', enum = { 'process' },
      doc = "what the recipe may do beyond HTTP: 'process' runs commands as the user" },
    mint_once = { type = 'boolean',
      doc = 'the credential cannot be minted again (a rotation): never lost, printed on stdout if -o fails' },
    params = { list = 'param', doc = 'the parameters, in order' },
    derive = { custom = 'derive', shape = 'NAME -> template, or a list of alternatives with missing = advice',
      doc = 'computed values: a template, or the first alternative whose placeholders are all set' },
    steps = { list = 'step', required = true, doc = 'what the recipe does, in order' },
    errors = { list = 'rule', doc = 'recipe-wide error rules, tried after a step\'s own' },
    emit = { context = 'emit', required = true, doc = 'the result' },
    release = { context = 'release', doc = 'steps that check a lease back in' },
    uses = { map = 'template', names = '^[%a_][%w_]*$',
      doc = "recipes run first: NAME -> recipe (a name or a path); their result is {use.NAME.token}, ..." },
  },

  param = {
    doc = 'One parameter: where its value comes from and what it must look like.',
    name = { type = 'string', required = true, pattern = '^[%a_][%w_]*$', doc = 'the name templates use' },
    env = { type = 'string', pattern = M.ENV_NAME,
      doc = 'environment variable holding the value (VAR_FILE names a file holding it)' },
    type = { enum = { 'string', 'integer', 'boolean', 'list', 'json_file' },
      doc = 'string (default), integer, boolean, list (comma-separated), or json_file (the path of a JSON '
        .. 'key file whose fields templates read: {name.field})' },
    fields = { list = 'template', doc = 'json_file: the fields the file must have' },
    secret_fields = { list = 'template', doc = 'json_file: fields that must be there and are secrets' },
    default = { value = true, doc = 'the value when none is given' },
    required = { type = 'boolean', doc = 'a run without it fails (78), saying where it could come from' },
    required_if = { type = 'string', doc = 'required whenever the named parameter is set and not false' },
    secret = { type = 'boolean', doc = 'never taken from -p, never printed, not passed to a child' },
    description = { type = 'string', doc = 'shown by `tokrun --help RECIPE`' },
    pattern = { type = 'string', doc = 'a Lua pattern the whole value must match' },
    enum = { list = 'value', doc = 'the values allowed' },
  },

  step = {
    doc = 'One step: an HTTP request (url) or a command (run).',
    name = { type = 'string', required = true, pattern = '^[%w_.-]+$', doc = 'errors say "recipe: step NAME: ..."' },
    when = { custom = 'when', shape = 'template, function, or {name = value, ...}',
      doc = 'run the step only when this renders to a set, non-false value, or when each named value equals' },
    on_failure = { enum = { 'deliver' },
      doc = "'deliver': the credential is still delivered when this step fails; the run then exits 75" },
    failure_note = { template = true, doc = 'with on_failure: what the user must do, added to the error' },
    timeout = { type = 'number', min = 0, doc = 'seconds this step may take (within --timeout)' },
    retries = { type = 'integer', min = 0, doc = 'attempts beyond the first (default --retries)' },
    capture = { map = 'capture', names = '^[%a_][%w_]*$', doc = 'values to keep from the answer: NAME -> path' },
    errors = { list = 'rule', doc = 'error rules: the first whose given fields all match decides the kind' },
    expect = { context = 'expect', doc = 'what a success looks like (default: any 2xx)' },
    parse = { custom = 'parse', shape = "http: 'json' (default) or 'xml'; run: 'table' or 'json'",
      doc = 'how the answer is read' },
    -- http
    url = { template = true, kinds = { 'http' },
      doc = 'the request URL; the placeholder that starts it must be an http(s) base URL' },
    method = { enum = METHODS, kinds = { 'http' }, doc = 'the request method (GET default)' },
    query = { custom = 'pairs', shape = '{ {name, value}, ... }', kinds = { 'http' },
      doc = 'ordered query pairs; signatures cover the exact string' },
    headers = { map = 'template', names = M.TOKEN, kinds = { 'http' }, doc = 'request headers: Name -> value' },
    auth = { context = 'auth', kinds = { 'http' }, doc = 'HTTP authentication' },
    json = { value = true, kinds = { 'http' }, doc = 'a JSON body (a table of templates)' },
    form = { custom = 'pairs', shape = '{ {name, value}, ... }', kinds = { 'http' },
      doc = 'an application/x-www-form-urlencoded body of ordered pairs' },
    body = { template = true, kinds = { 'http' }, doc = 'a raw body' },
    content_type = { type = 'string', kinds = { 'http' },
      doc = 'the Content-Type of the body, overriding the default' },
    sign = { context = 'sign', kinds = { 'http' }, doc = 'an HMAC signature over part of the request' },
    status_from = { type = 'string', kinds = { 'http' },
      doc = 'a body path whose number counts as the status (providers that answer 200 with "status": 401)' },
    code_from = { custom = 'paths', shape = 'a body path or a list of paths', kinds = { 'http' },
      doc = 'where the provider\'s error code is (reported as provider_code)' },
    message_from = { custom = 'paths', shape = 'a body path or a list of paths', kinds = { 'http' },
      doc = 'where the provider\'s error message is' },
    field_from = { custom = 'paths', shape = 'a body path or a list of paths', kinds = { 'http' },
      doc = 'where the provider names the field an error is about (reported in the message)' },
    resend = { enum = { 'safe', 'idempotent', 'unprocessed', 'never' }, kinds = { 'http' },
      doc = 'when the request may be re-sent: safe, idempotent (GET, PUT...), unprocessed (POST: 429/503), never' },
    follow_redirects = { custom = 'redirects', shape = 'true (5 hops) or a number of hops', kinds = { 'http' },
      doc = 'follow redirects one hop at a time; a cross-origin hop drops credentials' },
    max_body = { type = 'integer', min = 0, kinds = { 'http' },
      doc = 'the largest answer accepted, bytes (default 1 MiB)' },
    allow_userinfo = { type = 'boolean', kinds = { 'http' },
      doc = 'allow a URL with user:password@ before its host (refused by default)' },
    -- jwt
    jwt = { context = 'jwt', kinds = { 'jwt' },
      doc = 'build a signed JWT (compact JWS) instead of a request; later templates read it as {STEP_NAME}' },
    -- run
    run = { custom = 'run', shape = "{ argv = {...}, env = {...} } or a bare argv list", kinds = { 'run' },
      doc = "a command to run instead of a request; needs capabilities = { 'process' }" },
  },

  sign = {
    doc = 'An HMAC over a message built from the request.',
    hmac = { enum = { 'sha1', 'sha256', 'sha384', 'sha512' }, required = true, doc = 'the digest' },
    key = { template = true, required = true, doc = 'the key, usually a secret parameter' },
    message = { template = true, required = true,
      doc = 'what is signed; {query}, {method}, {path}, {body} and {url} are the request\'s' },
    encoding = { enum = { 'hex', 'base64', 'base64url' }, doc = 'how the signature is written (hex default)' },
    into = { context = 'sign_into', required = true, doc = 'where the signature goes' },
  },

  sign_into = {
    doc = 'Where a signature goes: one of query or header.',
    query = { type = 'string', pattern = M.TOKEN, doc = 'appended as this query pair, after the others' },
    header = { type = 'string', pattern = M.TOKEN, doc = 'set as this header' },
  },

  jwt = {
    doc = 'A JWT signed with a private key; exp, iat and nbf come from the run\'s clock (--now).',
    alg = { template = true, required = true,
      doc = 'RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA (Ed25519)' },
    key = { template = true, required = true,
      doc = 'the private key, PEM or DER (PKCS#8, plain or encrypted; PKCS#1 RSA; SEC1 EC)' },
    passphrase = { template = true, doc = 'the passphrase of an encrypted key' },
    header = { map = 'template', doc = 'header fields besides alg: kid, typ, ...' },
    x5t = { template = true, doc = 'a certificate (PEM or DER): its SHA-1 thumbprint goes in the x5t header' },
    ['x5t#S256'] = { template = true, doc = 'a certificate: its SHA-256 thumbprint goes in the x5t#S256 header' },
    claims = { value = true,
      doc = 'the claims, a table of templates; {key_fingerprint} is the key\'s SHA256:base64 SPKI fingerprint' },
    iat = { custom = 'jwt_time', shape = 'true or { backdate = SECONDS }', doc = 'issued-at: now, or backdated' },
    nbf = { custom = 'jwt_time', shape = 'true or { backdate = SECONDS }', doc = 'not-before: iat, or backdated' },
    exp = { type = 'integer', min = 1, doc = 'the lifetime in seconds, counted from iat (from now without one)' },
    jti = { type = 'boolean', doc = 'a random JWT ID (128 bits, UUID form)' },
  },

  jwt_time = {
    doc = 'A time claim moved back against clock drift.',
    backdate = { type = 'integer', min = 0, doc = 'seconds before now' },
  },

  auth = {
    doc = 'HTTP authentication; provider quirks are written as headers instead.',
    basic = { custom = 'basic', shape = '{ user, password }',
      doc = 'HTTP Basic: Authorization: Basic base64(user:password)' },
    bearer = { template = true, doc = 'Authorization: Bearer TOKEN' },
  },

  expect = {
    doc = 'What a successful answer looks like.',
    status = { custom = 'status', shape = 'a status or a list of statuses',
      doc = 'the status (or body status) expected' },
    body = { map = 'template', doc = 'body path -> the value (or list of values) it must have' },
  },

  capture = {
    doc = 'A value kept from the answer: a path string, or this table.',
    path = { type = 'string', required = true, doc = 'a dotted path into the answer: a.b.1.c' },
    as = { enum = { 'epoch_ms', 'epoch_s', 'jwt_exp', 'rfc3339', 'datetime', 'integer', 'string' },
      doc = 'a conversion: times to epoch seconds, integer, string' },
    match = { type = 'string', doc = 'a Lua pattern whose first capture is kept' },
    secret = { type = 'boolean', doc = 'the value is a credential: redacted everywhere' },
    optional = { type = 'boolean', doc = 'a missing value is not an error' },
    utc_offset = { template = true, doc = "for as = 'datetime': the server's UTC offset, like +02:00" },
  },

  rule = {
    doc = 'An error rule: which kind of failure an answer is.',
    status = { custom = 'status', shape = 'a status or a list of statuses', doc = 'the status matched' },
    code = { value = true, doc = 'the provider code (or list of codes) matched' },
    provider_message = { value = true, doc = 'the provider\'s message (or list of messages) matched exactly' },
    kind = { enum = KINDS, doc = 'the error kind (and so the exit code) reported' },
    report = { type = 'string', doc = 'tokrun\'s own message for this failure' },
    hint = { type = 'string', doc = 'advice added to the message' },
    clock_skew = { type = 'boolean',
      doc = "the provider rejected a JWT's time claims: rebuild it on the provider's clock (its Date) and retry once" },
  },

  run = {
    doc = 'A command: argv items are templates or groups {"-n", "{name}"} that drop out when unset.',
    argv = { custom = 'argv', shape = '{ "cmd", "arg", {"-n", "{name}"}, ... }', required = true,
      doc = 'the command and its arguments (never secrets: argv is world-readable)' },
    env = { map = 'template', names = M.ENV_NAME, doc = 'added to the child\'s environment (how secrets are passed)' },
  },

  emit = {
    doc = 'The result.',
    token = { template = true, required = true, doc = 'the credential; always treated as a secret' },
    token_type = { template = true, doc = 'what kind of credential it is' },
    expires_at = { template = true, doc = 'epoch seconds, usually from a capture conversion' },
    ttl = { custom = 'ttl', shape = 'seconds, a template, or { seconds | minutes | hours = ... }',
      doc = 'when expires_at is unset: the lifetime from now' },
    data = { value = true, doc = 'extra fields in the result\'s "data"' },
    env = { map = 'template', names = M.ENV_NAME,
      doc = 'names for --format env and exec (default TOKRUN_TOKEN and TOKRUN_EXPIRES_AT)' },
    username = { template = true, doc = 'the user name helpers answer with the token (git, Docker)' },
    access_key_id = { template = true, doc = 'AWS access key id, for --format aws-credential-process' },
    secret_access_key = { template = true, doc = 'AWS secret access key (a secret), for aws-credential-process' },
    session_token = { template = true, doc = 'AWS session token (a secret), for aws-credential-process' },
  },

  ttl = {
    doc = 'A lifetime in one unit.',
    seconds = { value = true, doc = 'seconds' },
    minutes = { value = true, doc = 'minutes' },
    hours = { value = true, doc = 'hours' },
  },

  release = {
    doc = 'Checking a lease back in.',
    lease = { type = 'string', required = true, doc = 'the captured value that identifies the lease' },
    steps = { list = 'step', required = true, doc = 'the steps that release it' },
  },
}

-- Words of earlier versions, and what says it now (for the message).
M.renamed = {
  step = { error_message = "'message_from'", error_code = "'code_from'",
    safe_to_repeat = "resend = 'safe'", never_resend = "resend = 'never'" },
  rule = { text = "'provider_message'", message = "'report'" },
  sign = { query = "into = { query = ... }", header = "into = { header = ... }" },
  auth = { token = "a header: headers = { Authorization = 'Token token={...}' }" },
  recipe = {},
}

-- How each step kind may read its answer (parse = ...).
M.parsers = { http = { 'json', 'xml' }, run = { 'table', 'json' }, jwt = {} }

-- Template builtins: names every template may use.
M.builtins = {
  now_ms = 'epoch milliseconds, fresh for every attempt',
  now = 'epoch seconds',
  recipe = "the recipe's name",
}
-- Names a signature's message may use besides those.
M.sign_names = {
  query = 'the encoded query string', method = 'the request method', path = 'the URL path',
  body = 'the request body', url = 'the URL without the query',
}
-- Template filters: {name|filter}.
M.filters = {
  string = 'the value as a string (a list joined with commas)',
  int = 'the value as an integer',
  form = 'form-urlencoded (space as +), as HTTP Basic for OAuth2 wants',
  jwt_exp = "a JWT's exp claim, epoch seconds (emit.expires_at of a JWT)",
  json = 'JSON text as the value it encodes (an object for a JSON body)',
  integers = "a list's items as integers",
  spaces = 'a list joined with spaces (an OAuth2 scope)',
  upper = 'upper case',
}

return M

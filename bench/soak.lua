-- wrk script for `python -m bench.run --soak`: a mixed workload.
--
-- bench/soak.py writes the request kinds (name, method, path, headers, body,
-- jwt) as a Lua file whose path is in PGWSGI_SOAK_REQUESTS; each thread
-- formats them once and its connections take them in turn. Kinds marked jwt
-- get the Authorization header from PGWSGI_BENCH_AUTHORIZATION (as in
-- report.lua: from the environment, so the token is in no process listing).
--
-- done() prints the same one-line PGWSGI_BENCH summary as report.lua, plus
-- "statuses" (responses by HTTP status) and "sent" (requests by kind).

local kinds = dofile(os.getenv("PGWSGI_SOAK_REQUESTS"))
local auth = os.getenv("PGWSGI_BENCH_AUTHORIZATION")

-- setup() runs in the main Lua state once per thread, before that thread's init().
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  -- Each thread starts the rotation elsewhere, so they do not send the same kind in step.
  thread:set("offset", #threads - 1)
end

function init(args)
  prepared = {}
  for i, k in ipairs(kinds) do
    local headers = {}
    for name, value in pairs(k.headers) do
      headers[name] = value
    end
    if k.jwt and auth ~= nil and auth ~= "" then
      headers["Authorization"] = auth
    end
    prepared[i] = wrk.format(k.method, k.path, headers, k.body)
  end
  turn = offset or 0
  -- Globals of this thread's Lua state, read back with thread:get in done().
  sent = {}
  statuses = {}
  non2xx = 0
  responses = 0
end

-- wrk calls this for every request (also once at start-up, to check it: `sent` is one high).
function request()
  turn = turn + 1
  local i = turn % #prepared + 1
  sent[i] = (sent[i] or 0) + 1
  return prepared[i]
end

-- wrk itself only counts status >= 400 as errors; this counts anything that is not 2xx.
function response(status, headers, body)
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

local function json_counts(counts, name_of)
  local keys = {}
  for key in pairs(counts) do
    table.insert(keys, key)
  end
  table.sort(keys)
  local parts = {}
  for _, key in ipairs(keys) do
    table.insert(parts, string.format('"%s": %d', name_of(key), counts[key]))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, requests)
  local non2xx_total, responses_total, sent_total, statuses_total = 0, 0, {}, {}
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
    responses_total = responses_total + (thread:get("responses") or 0)
    for i, n in pairs(thread:get("sent") or {}) do
      sent_total[i] = (sent_total[i] or 0) + n
    end
    for status, n in pairs(thread:get("statuses") or {}) do
      statuses_total[status] = (statuses_total[status] or 0) + n
    end
  end
  local e = summary.errors
  -- wrk's latency statistics are in microseconds.
  io.write(string.format(
    'PGWSGI_BENCH {"requests": %d, "duration_us": %d, "responses": %d, "non2xx": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, '
    .. '"mean_us": %.1f, "stdev_us": %.1f, "min_us": %d, "max_us": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "statuses": %s, "sent": %s}\n',
    summary.requests, summary.duration, responses_total, non2xx_total,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.min, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    json_counts(statuses_total, tostring),
    json_counts(sent_total, function(i) return kinds[i].name end)))
end

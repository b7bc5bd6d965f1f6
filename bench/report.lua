-- wrk script for `make bench`: optional Authorization header, non-2xx count,
-- and a one-line JSON summary that bench/httpload.py parses.
--
-- The header comes from the environment rather than wrk's -H so that the
-- token never shows up in a process listing.

local auth = os.getenv("PGWSGI_BENCH_AUTHORIZATION")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

-- setup() runs in the main Lua state once per thread; keeping the thread
-- objects lets done() read each thread's counter.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0   -- a global of this thread's Lua state, read back with thread:get
  responses = 0
end

-- wrk itself only counts status >= 400 as errors; this counts anything that is not 2xx.
function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total, responses_total = 0, 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
    responses_total = responses_total + (thread:get("responses") or 0)
  end
  local e = summary.errors
  -- wrk's latency statistics are in microseconds.
  io.write(string.format(
    'PGWSGI_BENCH {"requests": %d, "duration_us": %d, "responses": %d, "non2xx": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, '
    .. '"mean_us": %.1f, "stdev_us": %.1f, "min_us": %d, "max_us": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d}\n',
    summary.requests, summary.duration, responses_total, non2xx_total,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.min, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end

-- wrk script: replay a pool of complete, pre-signed HTTP requests.
--
-- HubSpot v3 signatures cover a timestamp that must be within 5 minutes of the receiver's clock
-- and an HMAC-SHA256 that wrk's LuaJIT cannot compute cheaply, so the bench signs every request
-- in Python just before the run and writes them to one file per wrk thread (`<prefix><n>.bin`,
-- raw requests back to back, with `<prefix><n>.idx` holding "offset length" per request).
-- Every request carries events of its own (unique event ids), so nothing sent is a duplicate
-- unless the pool runs out and wraps; `wrapped` reports that.
--
-- usage: wrk -t2 -c10 -d20s -s wrk_pool.lua URL -- PREFIX THREADS

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local prefix, nthreads = args[1], tonumber(args[2])
  if id >= nthreads then
    error("more wrk threads than pool files")
  end
  local file = assert(io.open(prefix .. id .. ".bin", "rb"))
  local data = file:read("*a")
  file:close()
  pool = {}
  for line in io.lines(prefix .. id .. ".idx") do
    local start, len = line:match("^(%d+) (%d+)$")
    start, len = tonumber(start), tonumber(len)
    pool[#pool + 1] = data:sub(start + 1, start + len)
  end
  data = nil
  cursor, sent, answered, acked, wrapped = 0, 0, 0, 0, 0
end

function request()
  cursor = cursor + 1
  if cursor > #pool then
    cursor = 1
    wrapped = wrapped + 1
  end
  sent = sent + 1
  return pool[cursor]
end

function response(status, headers, body)
  answered = answered + 1
  if status == 204 then
    acked = acked + 1
  end
end

function done(summary, latency, requests)
  local totals = {sent = 0, answered = 0, acked = 0, wrapped = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + thread:get(key)
    end
  end
  io.write(string.format(
    'WRK_JSON {"duration_us":%d,"requests":%d,"status_errors":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"sent":%d,"answered":%d,' ..
    '"acked":%d,"wrapped":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%d}\n',
    summary.duration, summary.requests, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout, totals.sent,
    totals.answered, totals.acked, totals.wrapped, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end

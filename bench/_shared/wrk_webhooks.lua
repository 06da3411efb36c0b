-- wrk script: each request is a distinct, signed post_call_transcription webhook.
-- Arguments (after --): <ids file> <body-before file> <body-after file> <threads>; with no arguments it
-- sends plain GETs of the URL (the /ping comparison), with the same report.
-- The ids file has one "<timestamp>\t<v0 signature>\t<conversation id>" line per event; thread k of n
-- sends lines k, k+n, k+2n... so no two requests carry the same conversation. Running out of lines
-- stops the thread's requests from being new events: the script then reports `exhausted`.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function init(args)
  statuses = {}
  exhausted = 0
  if args[1] == nil then
    plain = wrk.format("GET", wrk.path)
    return
  end
  local ids_path, before_path, after_path, n = args[1], args[2], args[3], tonumber(args[4])
  before = read_all(before_path)
  after = read_all(after_path)
  lines = {}
  local i = 0
  for line in io.lines(ids_path) do
    if i % n == tid then
      table.insert(lines, line)
    end
    i = i + 1
  end
  position = 0
end

function request()
  if plain then
    return plain
  end
  position = position + 1
  local line = lines[position]
  if line == nil then
    exhausted = exhausted + 1
    position = 1
    line = lines[1]
  end
  local t, sig, id = line:match("^(%d+)\t(%x+)\t(.+)$")
  local body = before .. id .. after
  return wrk.format("POST", wrk.path, {
    ["Content-Type"] = "application/json",
    ["ElevenLabs-Signature"] = "t=" .. t .. ",v0=" .. sig,
  }, body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged, exhausted_total = {}, 0
  for _, thread in ipairs(threads) do
    exhausted_total = exhausted_total + (thread:get("exhausted") or 0)
    local s = thread:get("statuses") or {}
    for k, v in pairs(s) do
      merged[k] = (merged[k] or 0) + v
    end
  end
  local parts = {}
  for k, v in pairs(merged) do
    table.insert(parts, string.format('"%s": %d', k, v))
  end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"exhausted": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout, exhausted_total, table.concat(parts, ", ")))
end

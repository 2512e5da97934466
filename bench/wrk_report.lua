-- wrk script: optional request paths from a file (one per line, cycled), optional API key,
-- and a one-line JSON summary with p50/p95/p99 at the end.
-- usage: wrk ... -s bench/wrk_report.lua URL -- [paths_file] [api_key] [accept_encoding]
local paths = {}
local index = 0
local api_key = nil
local accept_encoding = nil

function init(args)
  if args[1] and args[1] ~= "" then
    for line in io.lines(args[1]) do
      paths[#paths + 1] = line
    end
  end
  if args[2] and args[2] ~= "" then
    api_key = args[2]
  end
  if args[3] and args[3] ~= "" then
    accept_encoding = args[3]
  end
end

function request()
  local headers = {}
  if api_key then headers["X-API-Key"] = api_key end
  if accept_encoding then headers["Accept-Encoding"] = accept_encoding end
  if #paths == 0 then
    return wrk.format("GET", nil, headers)
  end
  index = index % #paths + 1
  return wrk.format("GET", paths[index], headers)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'WRK_JSON {"requests": %d, "rps": %.1f, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, ' ..
    '"max_ms": %.3f, "non2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

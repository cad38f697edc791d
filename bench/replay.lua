-- wrk's script for `python -m bench --server`: replays the raw HTTP requests the bench wrote
-- (one per request it wants sent: a signed webhook must not repeat, a page may), and counts the
-- answers whose status is not among those the endpoint is expected to give.
-- Arguments: the expected statuses (comma-separated), the file of requests (each ended by a
-- NUL byte), and how many threads wrk runs (-t).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  expected = {}
  for status in string.gmatch(args[1], "%d+") do
    expected[tonumber(status)] = true
  end
  local file = assert(io.open(args[2], "rb"))
  local raw = file:read("*a")
  file:close()
  -- Each of wrk's threads takes its own share, so no request is sent twice while they last.
  local shares = tonumber(args[3])
  local count = 0
  local share = 0
  queue = {}
  for request in string.gmatch(raw, "([^%z]+)%z") do
    if share % shares == id then
      count = count + 1
      queue[count] = request
    end
    share = share + 1
  end
  assert(count > 0, "no request in " .. args[2])
  position, sent, wrong, wrong_status, repeated = 0, 0, 0, 0, 0
end

function request()
  position = position + 1
  if position > #queue then
    -- Out of requests: send them again (the bench reports it).
    position = 1
    repeated = repeated + 1
  end
  return queue[position]
end

function response(status, headers, body)
  if not expected[status] then
    wrong = wrong + 1
    wrong_status = status
  end
end

function done(summary, latency, requests)
  local wrong_total, status, repeated_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    wrong_total = wrong_total + thread:get("wrong")
    repeated_total = repeated_total + thread:get("repeated")
    if thread:get("wrong_status") ~= 0 then
      status = thread:get("wrong_status")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    "bench-result requests=%d microseconds=%d wrong=%d wrong_status=%d repeated=%d"
      .. " socket_errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, wrong_total, status, repeated_total,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)
  ))
end

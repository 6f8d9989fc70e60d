-- wrk script for the voucher rush: every request claims with a random shopper's token; three in
-- ten repeat an earlier (shopper, Idempotency-Key) pair of this thread. Acknowledged claims
-- (200/201) are written to $OUT/acked-<thread>.txt as "request_id seq" for the check afterwards.
local tokens = {}
local campaign = nil
for line in io.lines(os.getenv("TOKENS")) do
  if campaign == nil then campaign = line elseif #line > 0 then tokens[#tokens + 1] = line end
end
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end

function init(args)
  path = "/api/v1/t/flash/campaigns/" .. campaign .. "/claims"
  acked = io.open(os.getenv("OUT") .. "/acked-" .. tid .. ".txt", "w")
  math.randomseed(os.time() * 1000 + tid)
  recent, n = {}, 0
  c200, c201, c409, c410, c425, c429, c5xx, cother = 0, 0, 0, 0, 0, 0, 0, 0
end

request = function()
  local i, key
  if #recent > 0 and math.random() < 0.3 then
    local p = recent[math.random(#recent)]
    i, key = p[1], p[2]
  else
    n = n + 1
    i, key = math.random(#tokens), "t" .. tid .. "-" .. n
    if #recent < 2000 then recent[#recent + 1] = { i, key } else recent[math.random(2000)] = { i, key } end
  end
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Idempotency-Key"] = key,
    ["Content-Length"] = "0",
  })
end

response = function(status, headers, body)
  if status == 201 or status == 200 then
    if status == 201 then c201 = c201 + 1 else c200 = c200 + 1 end
    local seq = body:match('"seq":(%d+)')
    local id = body:match('"request_id":"([^"]*)"')
    acked:write(id, " ", seq, "\n")
  elseif status == 409 then c409 = c409 + 1
  elseif status == 410 then c410 = c410 + 1
  elseif status == 425 then c425 = c425 + 1
  elseif status == 429 then c429 = c429 + 1
  elseif status >= 500 then c5xx = c5xx + 1
  else cother = cother + 1 end
end

local threads_list = {}
local orig_setup = setup
function setup(thread)
  orig_setup(thread)
  threads_list[#threads_list + 1] = thread
end

function done(summary, latency, requests)
  local t = { c200 = 0, c201 = 0, c409 = 0, c410 = 0, c425 = 0, c429 = 0, c5xx = 0, cother = 0 }
  for _, th in ipairs(threads_list) do
    for k, _ in pairs(t) do t[k] = t[k] + (th:get(k) or 0) end
  end
  io.write(string.format("STATUS 201=%d 200=%d 409=%d 410=%d 425=%d 429=%d 5xx=%d other=%d\n",
    t.c201, t.c200, t.c409, t.c410, t.c425, t.c429, t.c5xx, t.cother))
end

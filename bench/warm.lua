-- wrk script: visit every code in $CODES once (threads take turns), then stop. Fills the server's
-- scan cache the way a night's first shoppers would, before the measured run.
local paths = {}
for line in io.lines(os.getenv("CODES")) do
  if #line > 0 then paths[#paths + 1] = line end
end
local threads = 0

function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

function init(args)
  nexti = offset + 1
  stride = tonumber(os.getenv("THREADS") or "2")
end

request = function()
  local p = paths[nexti] or paths[1]
  nexti = nexti + stride
  return wrk.format("GET", p, { ["Accept-Encoding"] = "gzip" })
end

response = function(status, headers, body)
  if nexti > #paths then
    wrk.thread:stop()
  end
end

-- wrk script: GET a random stall's scan page, from the code paths in $CODES (one a line),
-- as a phone does (gzip accepted).
local paths = {}
for line in io.lines(os.getenv("CODES")) do
  if #line > 0 then paths[#paths + 1] = line end
end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)

request = function()
  return wrk.format("GET", paths[math.random(#paths)], { ["Accept-Encoding"] = "gzip" })
end

-- A scan page that is not 200 is an error of the benchmark, not a fast answer.
response = function(status, headers, body)
  if status ~= 200 then
    wrk.thread:stop()
  end
end

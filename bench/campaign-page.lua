-- wrk script for the campaign's page (what shoppers reload while they wait, and where they press
-- claim): GET /t/flash/vouchers/<campaign> as a random signed-in shopper (the shopper cookie holds
-- the same token as the API's bearer).
local tokens = {}
local campaign = nil
for line in io.lines(os.getenv("TOKENS")) do
  if campaign == nil then campaign = line elseif #line > 0 then tokens[#tokens + 1] = line end
end

function init(args)
  path = "/t/flash/vouchers/" .. campaign
  math.randomseed(os.time() * 1000 + math.random(1000000))
end

request = function()
  return wrk.format("GET", path, {
    ["Cookie"] = "nm_shopper=" .. tokens[math.random(#tokens)],
    ["Accept-Encoding"] = "gzip",
  })
end

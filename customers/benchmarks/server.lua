-- The load of the server figures (customers/benchmarks/server.py), a wrk script:
--   wrk ... --script server.lua http://127.0.0.1:PORT -- DATA.lua TOKEN
-- DATA.lua (written by server.py) returns the endpoint, the API key and the JSON pieces
-- the requests are made of. Every order is new: its external_id is the run's TOKEN, the
-- thread and a counter; half go to phones of customers the business has, half to random
-- phones (new customers). Every answer is counted: a status other than 2xx is a failure,
-- and so is, in a batch's answer, an order's result other than 200 or 201.

local threads = {}

function setup(thread)
   thread:set("thread_number", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   data = dofile(args[1])
   token = args[2]
   math.randomseed(os.time() * 100 + thread_number)
   counter, failures, orders, order_failures = 0, 0, 0, 0
   headers = {
      ["Authorization"] = "Bearer " .. data.secret,
      ["Content-Type"] = "application/json",
      -- As the TLS proxy in front of gunicorn says (else the app redirects to https).
      ["X-Forwarded-Proto"] = "https",
   }
end

local function pick(list)
   return list[math.random(#list)]
end

local function order()
   counter = counter + 1
   local person
   if counter % 2 == 1 then
      person = pick(data.people)
   else
      local phone = string.format("+1%d%d%04d", pick(data.area_codes), pick(data.exchanges), math.random(0, 9999))
      person = string.format('"phone": "%s", %s', phone, pick(data.names))
   end
   return string.format(
      '{"external_id": "%s-%d-%d", %s, %s, %s}',
      token, thread_number, counter, person, pick(data.products), data.fields
   )
end

function request()
   if data.endpoint == "customer" then
      return wrk.format("GET", "/api/v1/customers/" .. pick(data.customer_ids), headers)
   end
   if data.endpoint == "orders" then
      return wrk.format("POST", "/api/v1/orders", headers, order())
   end
   local batch = {}
   for i = 1, data.batch_size do
      batch[i] = order()
   end
   return wrk.format("POST", "/api/v1/orders/batch", headers, '{"orders": [' .. table.concat(batch, ", ") .. "]}")
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      failures = failures + 1
   elseif data.endpoint == "batch" then
      for code in body:gmatch('"status": (%d+)') do
         if code == "200" or code == "201" then
            orders = orders + 1
         else
            order_failures = order_failures + 1
         end
      end
   end
end

function done(summary, latency, requests)
   local totals = {failures = 0, orders = 0, order_failures = 0}
   for _, thread in ipairs(threads) do
      for name, total in pairs(totals) do
         totals[name] = total + thread:get(name)
      end
   end
   local errors = summary.errors
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f p50_ms=%.3f p95_ms=%.3f failures=%d socket_errors=%d orders=%d order_failures=%d\n",
      summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
      totals.failures, errors.connect + errors.read + errors.write + errors.timeout, totals.orders,
      totals.order_failures
   ))
end

-- Shared by track.lua, floor.lua and user_achievements.lua: each names its GraphQL document and
-- calls install(). Why one module: the three scripts must build, send and check requests in exactly
-- the same way, or the Laurel/floor ratio would measure differences between scripts.
--
-- Environment (read here, so run.py and a person at a shell drive the scripts the same way):
--   LAUREL_API_KEY  sent as X-API-Key when set (the floor ignores it)
--   BENCH_USERS     how many user ids to cycle over: user-0 .. user-(N-1)
--   BENCH_CHECK=0   skip the response check (saves wrk a body copy per response)
local M = {}

-- The document is spliced into a JSON string as is: quotes inside it must be written \" already.
local function body(document, user)
  return '{"query":"' .. document .. '","variables":{"u":"user-' .. user .. '"}}'
end

local function install_check(check)
  bad = 0          -- globals: wrk's done() reads them from each thread with thread:get()
  first_bad = ""
  if not check then
    return
  end
  -- A server that answers fast with GraphQL errors (auth, unknown metric) must not pass for a
  -- fast server, so every response is checked for a 200 status and an "errors" member.
  function response(status, headers, resp_body)
    if status ~= 200 or string.find(resp_body, '"errors"', 1, true) then
      bad = bad + 1
      if first_bad == "" then
        first_bad = status .. " " .. string.sub(resp_body, 1, 300)
      end
    end
  end
end

function M.install(document, default_users)
  local users = tonumber(os.getenv("BENCH_USERS") or "") or default_users
  local key = os.getenv("LAUREL_API_KEY")
  local check = os.getenv("BENCH_CHECK") ~= "0"
  local threads = {}
  local requests = {}
  local next_user = 0

  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if key and key ~= "" then
    wrk.headers["X-API-Key"] = key
  end
  install_check(check)

  function setup(thread)
    thread:set("thread_index", #threads)
    table.insert(threads, thread)
  end

  -- Requests are formatted once per thread, not per request, so that wrk's own CPU stays small
  -- (it shares the machine's cores with the server under test).
  function init(args)
    for n = 0, users - 1 do
      requests[n + 1] = wrk.format(nil, nil, nil, body(document, n))
    end
    -- With -t>1 the threads start at different users, so they do not hit one user in lockstep.
    next_user = ((thread_index or 0) * 397) % users
  end

  function request()
    next_user = next_user % users + 1
    return requests[next_user]
  end

  function done(summary, latency, reqs)
    local total, sample = 0, ""
    for _, thread in ipairs(threads) do
      total = total + (thread:get("bad") or 0)
      if sample == "" then
        sample = thread:get("first_bad") or ""
      end
    end
    io.write(string.format("bench_users: %d\n", users))
    io.write(string.format("bad_responses: %d\n", check and total or -1))
    if sample ~= "" then
      io.write("first_bad: " .. string.gsub(sample, "\n", " ") .. "\n")
    end
  end
end

return M

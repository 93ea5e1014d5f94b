-- The GraphQL floor (b): the no-op trackEvent of /work/shared/bench/floor_app.py (MODE=noop),
-- whose mutation has a different signature from Laurel's. The yardstick for both scenarios.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk_common.lua").install(
  [[mutation($u:String!){trackEvent(metricKey:\"lessons\",userId:$u,value:1){eventId total achievements}}]],
  1000
)

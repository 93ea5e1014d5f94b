-- The GraphQL floor (b): the no-op trackEvent of the floor_app.py beside the repository (MODE=noop),
-- whose mutation has a different signature from Laurel's. The yardstick for both scenarios.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk_common.lua").install(
  [[mutation($u:String!){trackEvent(metricKey:\"lessons\",userId:$u,value:1){eventId total achievements}}]],
  1000
)

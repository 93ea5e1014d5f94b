-- Laurel's trackEvent, the hot path of issue 4: value 1 on metric "lessons", cycling over
-- BENCH_USERS users (default 1000). Needs LAUREL_API_KEY. Run: see README.md.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk_common.lua").install(
  [[mutation($u:String!){trackEvent(input:{metricKey:\"lessons\",user:{id:$u},value:1}){eventId total}}]],
  1000
)

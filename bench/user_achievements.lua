-- Laurel's read path: a user's achievements with progress, completions and rarity, cycling over
-- BENCH_USERS users (default 200, the users run.py seeds for --scenario read). Needs
-- LAUREL_API_KEY. The floor has no comparable query; run.py compares it to floor.lua.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk_common.lua").install(
  [[query($u:String!){ user(id:$u){ achievements(includeIncomplete:true){ achievedAt progress{current target percent} achievement{ ... on MetricAchievement{ key completions rarity } } } } }]],
  200
)

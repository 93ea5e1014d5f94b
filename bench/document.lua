-- One GraphQL document from the environment (BENCH_DOCUMENT, quotes already escaped as \"),
-- sent as wrk_common.lua sends every benchmark request, so that Laurel and a read floor are
-- driven by the same script with the same body.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk_common.lua").install(os.getenv("BENCH_DOCUMENT"), 1)

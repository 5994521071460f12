-- A small chat completion, as an OpenAI client sends it. KEY is the bearer key (empty for the
-- bare upstream); DELAY_MS, when set, paces each connection to hold a fixed load, with a random
-- pause averaging DELAY_MS so connections do not fall into step and arrive in bursts.
wrk.method = "POST"
wrk.body = '{"model":"echo-1","max_tokens":16,"messages":[{"role":"user","content":"Say hello in one word."}]}'
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("KEY") or ""
if key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end
local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause then
  math.randomseed(os.time())
  function delay()
    return math.random(0, 2 * pause)
  end
end

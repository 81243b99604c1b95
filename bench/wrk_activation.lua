-- wrk script of bench/throughput.py: sends pre-signed requests read from a file, five lines
-- each (path, Signature-Input, Signature, Content-Digest, body; "-" for a header not sent).
-- Arguments after "--": FILE MODE. MODE "activation" sends each request once (a nonce is
-- single-use; a wrap-around is counted in ran_out), "noop" cycles one request forever.
-- One wrk thread (-t1): the figures are read from that thread in done().
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file, mode = args[1], args[2]
  cycle = (mode == "noop")
  reqs = {}
  local f = assert(io.open(file, "r"))
  while true do
    local path = f:read("*l")
    if not path then break end
    local si, sig, digest, body = f:read("*l"), f:read("*l"), f:read("*l"), f:read("*l")
    local headers = {["Content-Type"] = "application/json"}
    if si ~= "-" then
      headers["Signature-Input"] = si
      headers["Signature"] = sig
      headers["Content-Digest"] = digest
    end
    table.insert(reqs, wrk.format("POST", path, headers, body))
  end
  f:close()
  index, ok, other, ran_out = 0, 0, 0, 0
end

function request()
  index = index + 1
  if index > #reqs then
    index = 1
    if not cycle then ran_out = ran_out + 1 end
  end
  return reqs[index]
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local t = threads[1]
  local e = summary.errors
  io.write(string.format(
    "BENCH ok=%d other=%d ran_out=%d seconds=%.3f p50=%.3f p99=%.3f errors=%d\n",
    t:get("ok"), t:get("other"), t:get("ran_out"), summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout))
end

-- wrk script: every request is one stateless MCP tools/call (protocol revision 2026-07-28:
-- the protocol facts travel in the request's `_meta` and the method in headers, so any
-- replica can answer it). Counts HTTP statuses other than 200 and JSON-RPC errors per thread
-- and prints the totals, so that nginx_load.sh can require zero of each.

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "diagnose_bottleneck"
if os.getenv("ADVISOR_TOKEN") then
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("ADVISOR_TOKEN")
end
wrk.body = [[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"diagnose_bottleneck","arguments":{"users":250000,"has_cache":true,"p95_latency_ms":350,"db_cpu_pct":72,"cache_hit_rate_pct":71,"replication_lag_ms":1500},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"0"},"io.modelcontextprotocol/clientCapabilities":{}}}}]]

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad_status = 0
  rpc_errors = 0
  answered = 0
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif not string.find(body, '"structuredContent"', 1, true) or string.find(body, '"isError":true', 1, true) then
    rpc_errors = rpc_errors + 1
  else
    answered = answered + 1
  end
end

function done(summary, latency, requests)
  local bad, rpc, ok = 0, 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("bad_status")
    rpc = rpc + thread:get("rpc_errors")
    ok = ok + thread:get("answered")
  end
  io.write(string.format("answered %d, non-200 %d, jsonrpc-errors %d\n", ok, bad, rpc))
end

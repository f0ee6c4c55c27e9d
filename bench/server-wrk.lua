-- bench/server-wrk.lua: used by bench/server. Prints one machine-readable line at the end of
-- a wrk run (latencies in microseconds):
--   RESULT requests duration_us p50 p99 max connect_err read_err write_err status_err timeout_err
-- wrk counts a response with status >= 400 as a status error; the API answers nothing in
-- the 3xx range, so status_err is the number of non-2xx responses.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end

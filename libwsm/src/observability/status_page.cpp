#include "observability/status_page.hpp"

namespace wsm::detail {

namespace {

// The page keeps one row per machine, keyed by its id. States arrive as
// server-sent events (each also a line of the timeline, marked live); the
// counters of the table come from /machines.json every two seconds. The
// body's data-live-events counts the events received since the page was
// loaded, so a test can tell that the page followed a change without a
// reload.
constexpr const char page[] = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wsm machines</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .2em; }
  h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
  .summary { color: #555; margin-bottom: 1em; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #ddd;
           vertical-align: top; }
  th { background: #f4f4f4; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .state { font-weight: 600; padding: .1em .5em; border-radius: .3em; }
  .CONNECTED { background: #d9f2dc; color: #145a1f; }
  .CONNECTING { background: #fff3cd; color: #6b5200; }
  .WAITING { background: #fde2c8; color: #7a3d00; }
  .DISCONNECTED { background: #f8d7da; color: #7a1a22; }
  .error { color: #7a1a22; }
  #link { float: right; font-size: .9em; color: #555; }
  #timeline td { font-size: .95em; }
  tr.live td:first-child::after { content: " \2022"; color: #1a73e8; }
  .no-nodes th:nth-child(3), .no-nodes td:nth-child(3) { display: none; }
</style>
</head>
<body data-live-events="0">
<span id="link">connecting to the event stream…</span>
<h1>wsm machines</h1>
<div class="summary" id="summary"></div>
<table id="machines">
<thead><tr><th>id</th><th>URL</th><th>node</th><th>state</th><th>epoch</th>
<th>attempt</th><th>last error</th><th>close</th><th>round trip</th>
<th>queued</th><th>reading</th></tr></thead>
<tbody></tbody>
</table>
<h2>Last changes of state</h2>
<table id="timeline">
<thead><tr><th>time</th><th>id</th><th>URL</th><th>state</th><th>error</th>
</tr></thead>
<tbody></tbody>
</table>
<script>
"use strict";
const rows = new Map();
let liveEvents = 0;

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function stateBadge(td, state) {
  td.textContent = "";
  const span = document.createElement("span");
  span.className = "state " + state;
  span.textContent = state;
  td.appendChild(span);
}

function closeText(s) {
  if (!s.close_code) return s.http_status ? "HTTP " + s.http_status : "";
  return s.close_code + (s.close_reason ? " " + s.close_reason : "");
}

function rowOf(id) {
  let row = rows.get(id);
  if (row) return row;
  row = document.querySelector("#machines tbody").insertRow();
  row.id = "machine-" + id;
  for (let i = 0; i < 11; ++i) cell(row, "");
  row.cells[0].textContent = id;
  for (const i of [4, 5, 8, 9]) row.cells[i].className = "num";
  rows.set(id, row);
  return row;
}

function showStatus(id, url, s) {
  const row = rowOf(id);
  row.cells[1].textContent = url;
  stateBadge(row.cells[3], s.state);
  row.dataset.state = s.state;
  row.cells[4].textContent = s.epoch;
  row.cells[5].textContent = s.attempt;
  row.cells[6].textContent = s.error;
  row.cells[6].className = "error";
  row.cells[7].textContent = closeText(s);
}

function showCounters(m) {
  const row = rowOf(m.id);
  row.cells[2].textContent = m.node;
  row.cells[8].textContent = m.round_trip > 0
    ? (m.round_trip * 1000).toFixed(2) + " ms" : "";
  row.cells[9].textContent = m.queue_depth;
  row.cells[10].textContent = m.reading_paused ? "paused" : "";
}

function addTimeline(e, live) {
  const body = document.querySelector("#timeline tbody");
  const row = body.insertRow(0);
  if (live) row.className = "live";
  cell(row, new Date(e.time).toLocaleTimeString());
  cell(row, e.id);
  cell(row, e.url);
  stateBadge(cell(row, ""), e.status.state);
  cell(row, e.status.error, "error");
  while (body.rows.length > 200) body.deleteRow(-1);
}

function summarize() {
  const counts = {};
  for (const row of rows.values())
    counts[row.dataset.state] = (counts[row.dataset.state] || 0) + 1;
  // The node column is for a pool's machines: hidden where there are none.
  const anyNode = [...rows.values()].some((row) => row.cells[2].textContent);
  document.getElementById("machines").classList.toggle("no-nodes", !anyNode);
  document.getElementById("summary").textContent =
    rows.size + " machines: " + Object.entries(counts)
      .map(([state, n]) => n + " " + state).join(", ");
}

async function refresh(first) {
  try {
    const response = await fetch("/machines.json", {cache: "no-store"});
    const snapshot = await response.json();
    const seen = new Set();
    for (const m of snapshot.machines) {
      seen.add(m.id);
      showStatus(m.id, m.url, m.status);
      showCounters(m);
    }
    for (const [id, row] of rows)
      if (!seen.has(id)) { row.remove(); rows.delete(id); }
    if (first)
      for (const e of snapshot.timeline) addTimeline(e, false);
    summarize();
  } catch (err) {
    document.getElementById("link").textContent = "refresh failed: " + err;
  }
}

function follow() {
  const events = new EventSource("/events");
  events.onopen = () => {
    document.getElementById("link").textContent = "live";
  };
  events.onerror = () => {
    document.getElementById("link").textContent = "event stream lost, retrying…";
  };
  events.addEventListener("status", (message) => {
    const e = JSON.parse(message.data);
    showStatus(e.id, e.url, e.status);
    addTimeline(e, true);
    document.body.dataset.liveEvents = ++liveEvents;
    summarize();
  });
}

refresh(true).then(follow);
setInterval(() => refresh(false), 2000);
</script>
</body>
</html>
)html";

} // namespace

const char* status_page_html() noexcept {
  return page;
}

} // namespace wsm::detail

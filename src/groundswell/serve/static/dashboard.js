// groundswell dashboard: fetches figures from this server only, and writes data with
// textContent. The only markup it inserts is the server's own SVG charts, whose every label
// the server escaped (report/charts.py). No eval, no inline handlers, no other host.
"use strict";

const FILTERS = ["from", "to", "family", "variant", "language", "platform", "kind"];
const CHART = { width: 880, left: 72, right: 16 };
let state = { page: 0, version: null, series: [] };

function params(extra) {
  const out = new URLSearchParams();
  const current = new URLSearchParams(location.search);
  for (const name of FILTERS) {
    const value = current.get(name);
    if (value) out.set(name, value);
  }
  for (const [k, v] of Object.entries(extra || {})) out.set(k, v);
  return out;
}

async function api(path, extra) {
  const response = await fetch(`${path}?${params(extra)}`, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message || "";
  box.hidden = !message;
}

function number(value) {
  return value === null || value === undefined ? "unknown" : Number(value).toLocaleString("en-US");
}

function setFigure(name, value) {
  for (const node of document.querySelectorAll(`[data-figure="${name}"]`)) node.textContent = number(value);
}

function fillTable(id, rows, cells) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const [value, numeric] of cells(row)) {
      const td = document.createElement("td");
      td.textContent = numeric ? number(value) : (value ?? "–");
      if (numeric) td.className = "n";
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

function fillOptions(name, values) {
  const select = document.querySelector(`select[name="${name}"]`);
  const chosen = new URLSearchParams(location.search).get(name) || "";
  const known = new Set([...select.options].map((o) => o.value));
  for (const value of values) {
    if (known.has(value)) continue;
    const option = document.createElement("option");
    option.value = option.textContent = value;
    select.appendChild(option);
  }
  select.value = chosen;
}

function draw(figures) {
  const head = figures.headline;
  setFigure("posts", head.posts);
  setFigure("distinct_authors", head.distinct_authors);
  for (const kind of ["original", "repost", "reply", "quote"]) setFigure(`by_kind.${kind}`, head.by_kind[kind] ?? 0);
  const people = head.people || {};
  document.querySelector('[data-figure-label="distinct_authors"]').textContent =
    people.known === false ? `distinct authors: ${people.reason}` : "distinct authors";
  const match = figures.hashtag_vs_phrase.totals;
  for (const name of ["hashtag_only", "phrase_only", "both"]) setFigure(name, match[name]);
  for (const node of document.querySelectorAll("[data-chart]")) {
    const svg = figures.charts[node.dataset.chart];
    node.innerHTML = svg || '<p class="note">No data for this view.</p>';  // server-escaped SVG
  }
  state.series = figures.volume.series.map((row) => row.t);
  fillTable("family-table", figures.families.families, (f) => [[f.label], [f.language], [f.posts, true], [f.distinct_authors, true]]);
  fillTable("co-hashtag-table", figures.co_hashtags, (c) => [["#" + c.key], [c.posts, true]]);
  fillOptions("family", figures.families.families.filter((f) => !f.suppressed).map((f) => f.label));
  fillOptions("variant", figures.families.variants.filter((v) => !v.suppressed).map((v) => v.key));
  fillOptions("language", figures.languages.by_language.map((l) => l.language).filter((l) => !l.startsWith("other")));
  const privacy = figures.settings.privacy;
  const banner = document.getElementById("privacy-banner");
  banner.hidden = privacy.mode !== "off";
  banner.textContent = privacy.mode === "off" ? privacy.description : "";
  document.getElementById("title").textContent = `groundswell: ${figures.movement || "all collected posts"}`;
  brush();
}

function brush() {
  const svg = document.querySelector("#chart-volume svg");
  if (!svg || state.series.length < 2) return;
  let start = null;
  const index = (event) => {
    const box = svg.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * CHART.width;
    const share = (x - CHART.left) / (CHART.width - CHART.left - CHART.right);
    return Math.max(0, Math.min(state.series.length - 1, Math.round(share * (state.series.length - 1))));
  };
  svg.addEventListener("mousedown", (event) => { start = index(event); event.preventDefault(); });
  svg.addEventListener("mouseup", (event) => {
    if (start === null) return;
    const end = index(event);
    const [a, b] = [Math.min(start, end), Math.max(start, end)];
    start = null;
    if (a === b) return;
    setFilters({ from: state.series[a] + "Z", to: state.series[b] + "Z" });
  });
}

function setFilters(values) {
  const next = params();
  for (const [k, v] of Object.entries(values)) (v ? next.set(k, v) : next.delete(k));
  history.pushState(null, "", `?${next}`);
  state.page = 0;
  syncForm();
  load();
}

function syncForm() {
  const current = new URLSearchParams(location.search);
  const form = document.getElementById("filters");
  for (const name of FILTERS) {
    const field = form.elements[name];
    const value = current.get(name) || "";
    field.value = field.type === "datetime-local" ? value.replace(/Z$/, "").slice(0, 16) : value;
  }
}

async function load() {
  try {
    showError("");
    draw(await api("/api/stats"));
    await explore();
  } catch (error) {
    showError(error.message);
  }
}

async function explore() {
  const page = await api("/api/posts", { page: state.page, size: 25 });
  document.getElementById("explore-summary").textContent =
    `${number(page.total)} posts; page ${page.page + 1} of ${Math.max(1, Math.ceil(page.total / page.size))}`;
  fillTable("explore-table", page.rows, (p) => [[p.created_at], [p.platform], [p.kind], [p.handle || p.author],
    [p.language], [p.text ?? "(not shown)"]]);
  document.getElementById("next").disabled = (page.page + 1) * page.size >= page.total;
  document.getElementById("previous").disabled = page.page === 0;
}

async function hashtagCurve(event) {
  event.preventDefault();
  const key = new FormData(event.target).get("key");
  try {
    const curve = await api("/api/hashtag", { key });
    const summary = document.getElementById("hashtag-summary");
    summary.textContent = curve.suppressed ? `#${curve.key}: ${curve.reason}` : `#${curve.key}: ${number(curve.posts)} posts`;
    plot(document.getElementById("hashtag-chart"), curve.series.map((r) => r.posts));
  } catch (error) {
    showError(error.message);
  }
}

function plot(target, values) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 880 160");
  svg.setAttribute("class", "chart");
  const top = Math.max(1, ...values);
  const points = values.map((v, i) => `${72 + (792 * i) / Math.max(1, values.length - 1)},${150 - (140 * v) / top}`);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", points.length ? "M" + points.join("L") : "");
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "#0072B2");
  svg.appendChild(path);
  target.replaceChildren(svg);
}

function duration(seconds) {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400).toLocaleString("en-US")} days`;
}

async function live() {
  try {
    const info = await api("/api/live");
    const lag = info.lag_seconds === null ? "no post yet" : `newest post ${info.newest_post}, ${duration(info.lag_seconds)} behind real time`;
    const sources = info.sources.length ? `; live sources: ${info.sources.map((s) => s.source || s.name).join(", ")}` : "";
    document.getElementById("live").textContent = `data read ${info.loaded_at}; ${lag}${sources}`;
    if (state.version !== null && info.version !== state.version) load();
    state.version = info.version;
  } catch (error) {
    showError(error.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  syncForm();
  document.getElementById("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const values = {};
    for (const name of FILTERS) {
      const value = form.get(name);
      values[name] = value && (name === "from" || name === "to") ? `${value}:00Z`.replace(/:00:00Z$/, ":00Z") : value;
    }
    setFilters(values);
  });
  document.getElementById("reset").addEventListener("click", () => setFilters(Object.fromEntries(FILTERS.map((f) => [f, ""]))));
  document.getElementById("hashtag-form").addEventListener("submit", hashtagCurve);
  document.getElementById("next").addEventListener("click", () => { state.page += 1; explore(); });
  document.getElementById("previous").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); explore(); });
  window.addEventListener("popstate", () => { syncForm(); load(); });
  load();
  live();
  setInterval(live, 5000);
});

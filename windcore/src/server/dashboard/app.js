// windcore dashboard: plain JavaScript, no build step. It reads the routes
// the API documents (/info, /assets, /coverage, /data, /signals,
// /signals/names) and, with the token typed in, calls POST /etl/run and
// POST /generate. Charts are drawn by uPlot (vendored, MIT).
//
// For tests and benchmarks the page exposes `window.windcore`: the view on
// screen (`view`, with the points of each chart), the draw timings
// (`timings`, from performance.now()), the uPlot instances (`charts`), and
// `show({from, to, asset, variables})`, which loads and draws a view and
// resolves when it is drawn. The operator's charts (operator.js: power
// curve, wind rose, farm, availability) are drawn after the view and
// reported in `drawn` by name, with their point counts and the `seq` of the
// view they belong to. A variable's chart is drawn by charts.js, the
// coverage calendar by calendar.js, with the helpers of common.js.
(function () {
  "use strict";

  const { $, UNITS, addDays, daysBetween, isDay, fmt, esc } = window.windcoreCommon;
  const { SERIES, chartData, timeTicks } = window.windcoreCharts;
  const STATS = ["mean", "min", "max", "std", "count"];
  /** Longest range drawn with its raw samples, in days (beyond: statistics only). */
  const RAW_MAX_DAYS = 7;
  /** Rows of the statistics table drawn at most. */
  const TABLE_MAX_ROWS = 1008;
  /** Longest range the page asks for, in days. */
  const VIEW_MAX_DAYS = 366;

  const W = (window.windcore = {
    ready: false, loading: false, seq: 0, view: null, timings: null,
    charts: {}, errors: [], lastAction: null, coverage: null, drawn: {},
  });

  W.series = SERIES;
  const destroyCharts = () => window.windcoreCharts.destroyCharts(W);
  const makeChart = (...args) => window.windcoreCharts.makeChart(W, ...args);

  const state = {
    info: null, assets: [], names: null, variables: [], selected: [],
    asset: "", from: null, to: null, coverage: null,
  };

  // ------------------------------------------------------------- helpers

  function report(msg, kind) {
    const el = $("status");
    el.textContent = msg || "";
    el.className = "status" + (kind ? " " + kind : "");
  }

  window.addEventListener("error", (e) => {
    W.errors.push(String(e.message || e));
    report("Error: " + (e.message || e), "error");
  });
  window.addEventListener("unhandledrejection", (e) => {
    const m = e.reason && e.reason.message ? e.reason.message : String(e.reason);
    W.errors.push(m);
    report("Error: " + m, "error");
  });

  /** GET or POST a route; answers the parsed JSON, or throws the API's detail. */
  async function api(path, opts) {
    const resp = await fetch(path, opts);
    const text = await resp.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (_) { body = text; }
    if (!resp.ok) {
      const detail = body && body.detail ? body.detail : resp.status + " " + resp.statusText;
      const err = new Error(detail);
      err.status = resp.status;
      err.body = body;
      throw err;
    }
    return body;
  }

  function qs(params) {
    const parts = [];
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null || v === "") continue;
      parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(v));
    }
    return parts.join("&");
  }

  // Timestamps arrive as RFC 3339 UTC ("2024-01-01T00:10:00Z"); seconds since the epoch.
  let lastTsText = "", lastTs = 0;
  function tsSecs(text) {
    if (text === lastTsText) return lastTs;
    lastTsText = text;
    lastTs = Date.parse(text) / 1000;
    return lastTs;
  }

  // ------------------------------------------------------------- loading

  async function loadInfo() {
    const info = await api("/info");
    state.info = info;
    $("stores").textContent =
      "source " + info.source + (info.target ? " · target " + info.target : " · no target");
    $("actions-off").hidden = info.jobs_enabled;
    $("actions-on").hidden = !info.jobs_enabled;
    state.variables = info.variables || [];
    const box = $("variables");
    box.innerHTML = "";
    const preferred = state.variables.filter((v) => v === "wind_speed" || v === "power");
    if (!state.selected.length) {
      state.selected = preferred.length ? preferred : state.variables.slice(0, 2);
    }
    state.selected = state.selected.filter((v) => state.variables.includes(v));
    for (const v of state.variables) {
      const label = document.createElement("label");
      label.className = "var";
      const cb = document.createElement("input");
      cb.type = "checkbox";
      cb.value = v;
      cb.checked = state.selected.includes(v);
      cb.addEventListener("change", () => {
        state.selected = [...box.querySelectorAll("input:checked")].map((x) => x.value);
        show();
      });
      label.append(cb, " " + v);
      box.append(label);
    }
  }

  async function loadHealth() {
    const badge = $("health");
    try {
      await api("/health");
      badge.textContent = "stores ok";
      badge.className = "badge ok";
    } catch (e) {
      badge.textContent = "store unavailable";
      badge.className = "badge bad";
      badge.title = e.message;
    }
  }

  async function loadAssets() {
    state.assets = await api("/assets");
    const sel = $("asset");
    sel.innerHTML = "";
    for (const a of state.assets) {
      const o = document.createElement("option");
      o.value = a;
      o.textContent = a;
      sel.append(o);
    }
    $("asset-label").hidden = state.assets.length === 0;
    if (!state.assets.includes(state.asset)) state.asset = state.assets[0] || "";
    sel.value = state.asset;
  }

  async function loadNames() {
    if (!state.info || !state.info.target) {
      state.names = [];
      return;
    }
    try {
      state.names = await api("/signals/names");
    } catch (e) {
      state.names = null; // unknown: ask for every statistic
      report("Cannot list the signals: " + e.message, "error");
    }
  }

  async function loadCoverage() {
    // Without a target it still tells which days the source holds.
    state.coverage = await api("/coverage");
    W.coverage = state.coverage;
    window.windcoreCalendar.draw(state);
    if (window.windcoreOperator) {
      try {
        await window.windcoreOperator.drawAvailability(operatorContext(W.seq, () => false));
      } catch (e) {
        report("Cannot show the availability: " + e.message, "error");
      }
    }
  }

  /** What operator.js needs of this page to draw the view `seq`. */
  function operatorContext(seq, stale) {
    return {
      api, qs, chunks, inParallel, tsSecs, fmt, esc, timeTicks, units: UNITS, W, seq, stale,
      info: state.info, names: state.names || [], asset: state.asset,
      from: state.from, to: state.to, coverage: state.coverage,
    };
  }

  /** Draws the operator's charts of the view `seq` (not waited for by show()). */
  async function drawOperator(seq) {
    if (!window.windcoreOperator || !state.info.target) return;
    try {
      await window.windcoreOperator.draw(operatorContext(seq, () => seq !== viewSeq));
    } catch (e) {
      if (seq === viewSeq) report("Cannot draw the operator's charts: " + e.message, "error");
    }
  }

  /** Splits [from, to] (days, inclusive) into ranges of at most `max` days. */
  function chunks(from, to, max) {
    const out = [];
    let a = from;
    while (daysBetween(a, to) >= 0) {
      let b = addDays(a, max - 1);
      if (daysBetween(b, to) < 0) b = to;
      out.push([a, addDays(b, 1)]);
      a = addDays(b, 1);
    }
    return out;
  }

  async function inParallel(tasks, limit) {
    const out = new Array(tasks.length);
    let next = 0;
    async function worker() {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]();
      }
    }
    await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
    return out;
  }

  /** Raw samples: {x: seconds[], v: {variable: values[]}} */
  async function fetchRaw(from, to, vars) {
    const max = state.info.max_range_days;
    const parts = await inParallel(
      chunks(from, to, max).map(([a, b]) => () =>
        api("/data?" + qs({ start: a, end: b, variables: vars.join(","), asset: state.asset }))),
      4);
    const x = [];
    const v = {};
    for (const name of vars) v[name] = [];
    for (const rows of parts) {
      for (const r of rows) {
        x.push(tsSecs(r.timestamp));
        for (const name of vars) v[name].push(r[name]);
      }
    }
    return { x, v };
  }

  /** Statistics: {x: window starts[], s: {signal: values[]}} */
  async function fetchStats(from, to, vars) {
    const x = [];
    const s = {};
    if (!state.info.target) return { x, s };
    let wanted = [];
    for (const v of vars) for (const st of STATS) wanted.push(v + "_" + st);
    if (state.names) wanted = wanted.filter((n) => state.names.includes(n));
    if (!wanted.length) return { x, s };
    for (const n of wanted) s[n] = [];
    const max = state.info.max_range_days;
    const parts = await inParallel(
      chunks(from, to, max).map(([a, b]) => () =>
        api("/signals?" + qs({ start: a, end: b, signal: wanted.join(","), asset: state.asset }))),
      4);
    const cols = wanted.map((n) => s[n]);
    let last = NaN;
    for (const rows of parts) {
      for (const r of rows) {
        const t = tsSecs(r.timestamp);
        if (t !== last) {
          x.push(t);
          for (const c of cols) c.push(null);
          last = t;
        }
        const col = s[r.signal];
        if (col) col[col.length - 1] = r.value;
      }
    }
    return { x, s };
  }

  // ------------------------------------------------------------- views

  let viewSeq = 0;

  function countValues(a) {
    let n = 0;
    for (const x of a) if (x !== null && x !== undefined) n++;
    return n;
  }

  /** Loads and draws the selected range, asset and variables. */
  async function show(sel) {
    if (sel) {
      if (sel.from) state.from = sel.from;
      if (sel.to) state.to = sel.to;
      if (sel.asset !== undefined) state.asset = sel.asset;
      if (sel.variables) state.selected = sel.variables.filter((v) => state.variables.includes(v));
      syncControls();
    }
    const { from, to } = state;
    if (!isDay(from) || !isDay(to)) return null;
    const nDays = daysBetween(from, to) + 1;
    if (nDays < 1) { report("The end is before the start.", "error"); return null; }
    if (nDays > VIEW_MAX_DAYS) { report("At most " + VIEW_MAX_DAYS + " days at once.", "error"); return null; }
    const seq = ++viewSeq;
    const vars = state.selected.slice();
    W.loading = true;
    writeHash();
    report("Loading " + from + (to !== from ? " .. " + to : "") + "…");
    const withRaw = nDays <= RAW_MAX_DAYS;
    const t0 = performance.now();
    let raw, stats;
    try {
      [raw, stats] = await Promise.all([
        withRaw && vars.length ? fetchRaw(from, to, vars) : Promise.resolve(null),
        vars.length ? fetchStats(from, to, vars) : Promise.resolve({ x: [], s: {} }),
      ]);
    } catch (e) {
      if (seq === viewSeq) { W.loading = false; report("Cannot load the data: " + e.message, "error"); }
      throw e;
    }
    if (seq !== viewSeq) return null; // a newer selection is on its way
    const t1 = performance.now();
    destroyCharts();
    const points = {};
    let pending = vars.length;
    let drawnResolve;
    const drawn = new Promise((res) => { drawnResolve = res; });
    if (!pending) drawnResolve();
    const perChart = {};
    for (const v of vars) {
      const c0 = performance.now();
      const data = chartData(raw, stats, v);
      let first = true;
      const u = makeChart(v, data, withRaw, nDays > 31, () => {
        if (!first) return;
        first = false;
        perChart[v] = performance.now() - c0;
        if (--pending === 0) drawnResolve();
      });
      const windows = stats.s[v + "_mean"] ? countValues(stats.s[v + "_mean"]) : 0;
      points[v] = {
        x: data[0].length,
        raw: withRaw ? countValues(data[SERIES.raw]) : 0,
        rawRows: raw ? raw.x.length : 0,
        mean: windows,
      };
      u.root.dataset.rawPoints = points[v].raw;
      u.root.dataset.meanPoints = points[v].mean;
      u.root.parentElement.dataset.rawPoints = points[v].raw;
      u.root.parentElement.dataset.meanPoints = points[v].mean;
    }
    await drawn;
    const t2 = performance.now();
    drawTable(stats, vars);
    const t3 = performance.now();
    W.timings = {
      fetchMs: t1 - t0, drawMs: t2 - t1, perChartMs: perChart, tableMs: t3 - t2, totalMs: t3 - t0,
      statsWindows: stats.x.length, rawRows: raw ? raw.x.length : 0,
    };
    W.view = { from, to, asset: state.asset, variables: vars, withRaw, points, seq };
    W.seq = seq;
    W.loading = false;
    $("view-label").textContent =
      (from === to ? from : from + " .. " + to) + (state.asset ? " · " + state.asset : "") +
      " · drawn in " + Math.round(t2 - t1) + " ms (data " + Math.round(t1 - t0) + " ms)";
    report("");
    window.windcoreCalendar.highlight(state);
    W.ready = true;
    drawOperator(seq);
    return W.view;
  }
  W.show = show;

  function drawTable(stats, vars) {
    const thead = $("signals").tHead;
    const tbody = $("signals").tBodies[0];
    const cols = [];
    for (const v of vars) for (const st of STATS) if (stats.s[v + "_" + st]) cols.push(v + "_" + st);
    thead.innerHTML = "<tr><th>window start (UTC)</th>" +
      (state.asset ? "<th>asset</th>" : "") +
      cols.map((c) => "<th>" + esc(c) + "</th>").join("") + "</tr>";
    const n = Math.min(stats.x.length, TABLE_MAX_ROWS);
    const rows = new Array(n);
    const asset = state.asset ? "<td>" + esc(state.asset) + "</td>" : "";
    for (let i = 0; i < n; i++) {
      const t = new Date(stats.x[i] * 1000).toISOString().replace("T", " ").slice(0, 16);
      let cells = "";
      for (const c of cols) cells += "<td>" + fmt(stats.s[c][i], c.endsWith("_count") ? 0 : undefined) + "</td>";
      rows[i] = "<tr><td>" + t + "</td>" + asset + cells + "</tr>";
    }
    tbody.innerHTML = rows.join("");
    $("table-label").textContent = stats.x.length > n
      ? "first " + n + " of " + stats.x.length + " windows"
      : stats.x.length + " windows";
  }

  $("calendar").addEventListener("click", (e) => {
    const cell = e.target.closest(".cell");
    if (!cell) return;
    const sel = { from: cell.dataset.day, to: cell.dataset.day };
    if (cell.dataset.asset && state.assets.includes(cell.dataset.asset)) sel.asset = cell.dataset.asset;
    show(sel);
  });

  // ------------------------------------------------------------- controls

  function syncControls() {
    $("from").value = state.from || "";
    $("to").value = state.to || "";
    $("day").value = state.from === state.to ? state.from || "" : "";
    if (state.assets.includes(state.asset)) $("asset").value = state.asset;
    for (const cb of $("variables").querySelectorAll("input")) cb.checked = state.selected.includes(cb.value);
  }

  function writeHash() {
    const h = qs({ from: state.from, to: state.to, asset: state.asset, vars: state.selected.join(",") });
    history.replaceState(null, "", "#" + h);
  }

  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    if (isDay(p.get("from"))) state.from = p.get("from");
    if (isDay(p.get("to"))) state.to = p.get("to");
    if (p.get("day") && isDay(p.get("day"))) state.from = state.to = p.get("day");
    if (p.get("asset")) state.asset = p.get("asset");
    if (p.get("vars")) state.selected = p.get("vars").split(",").filter(Boolean);
  }

  $("day").addEventListener("change", () => {
    const d = $("day").value;
    if (isDay(d)) show({ from: d, to: d });
  });
  $("show").addEventListener("click", () => {
    const f = $("from").value, t = $("to").value;
    if (isDay(f) && isDay(t)) show({ from: f, to: t });
  });
  for (const [id, dir] of [["prev", -1], ["next", 1]]) {
    $(id).addEventListener("click", () => {
      if (!state.from) return;
      const span = daysBetween(state.from, state.to) + 1;
      show({ from: addDays(state.from, dir * span), to: addDays(state.to, dir * span) });
    });
  }
  $("asset").addEventListener("change", () => show({ asset: $("asset").value }));
  $("farm-channel").addEventListener("change", () => {
    window.windcoreOperator.setFarmChannel($("farm-channel").value);
    drawOperator(viewSeq);
  });
  $("availability").addEventListener("click", (e) => {
    const cell = e.target.closest(".cell");
    if (!cell || !cell.dataset.day) return;
    const sel = { from: cell.dataset.day, to: cell.dataset.day };
    if (cell.dataset.asset && state.assets.includes(cell.dataset.asset)) sel.asset = cell.dataset.asset;
    show(sel);
  });

  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const u of Object.values(W.charts)) u.setSize({ width: chartWidth(), height: 260 });
      window.windcoreCalendar.draw(state);
      if (window.windcoreOperator) window.windcoreOperator.resize();
    }, 150);
  });

  // ------------------------------------------------------------- actions

  async function action(path, body, label) {
    const token = $("token").value.trim();
    const out = $("action-result");
    if (!token) {
      out.textContent = "Type the server's token first.";
      out.className = "result error";
      return null;
    }
    out.textContent = label + "…";
    out.className = "result";
    try {
      const res = await api(path, {
        method: "POST",
        headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      W.lastAction = { path, body, result: res };
      return res;
    } catch (e) {
      W.lastAction = { path, body, error: e.message, status: e.status };
      out.textContent = label + " failed: " + e.message;
      out.className = "result error";
      return null;
    }
  }

  $("actions-on").addEventListener("submit", (e) => e.preventDefault());

  $("run-etl").addEventListener("click", async () => {
    if (!state.from) return;
    const body = state.from === state.to ? { date: state.from } : { from: state.from, to: state.to };
    const res = await action("/etl/run", body, "Running the ETL");
    if (!res) return;
    $("action-result").textContent = "ETL: " + res.loaded + " of " + res.days + " day(s) loaded, " +
      res.windows + " windows, " + res.rows_out + " rows, in " + Math.round(res.elapsed_ms) + " ms" +
      (res.no_source_rows.length ? "; no samples: " + res.no_source_rows.join(", ") : "");
    await Promise.all([loadNames(), loadCoverage()]);
    await show();
    W.lastAction.done = true;
  });

  $("generate").addEventListener("click", async () => {
    const days = Number($("gen-days").value);
    const start = $("gen-start").value;
    const res = await action("/generate", { days, start: isDay(start) ? start : undefined }, "Generating");
    if (!res) return;
    $("action-result").textContent = "Generated " + res.days + " day(s) (" + res.first + " .. " + res.last +
      "), " + res.rows + " samples, in " + Math.round(res.elapsed_ms) + " ms. Run the ETL for them to see statistics.";
    await Promise.all([loadAssets(), loadCoverage()]);
    await show();
    W.lastAction.done = true;
  });

  // ------------------------------------------------------------- start

  async function start() {
    readHash();
    await Promise.all([loadInfo(), loadHealth()]);
    await Promise.all([loadAssets(), loadNames(), loadCoverage()]);
    if (!state.from || !state.to) {
      // The newest day with statistics, else the newest day with samples.
      const days = state.coverage ? state.coverage.days : [];
      let pick = null;
      for (const d of days) {
        if (Object.values(d.windows).some((w) => w > 0)) pick = d.day;
      }
      if (!pick && days.length) pick = days[days.length - 1].day;
      if (!pick) pick = new Date().toISOString().slice(0, 10);
      state.from = state.to = pick;
    }
    $("gen-start").value = state.coverage && state.coverage.last ? addDays(state.coverage.last, 1) : state.from;
    syncControls();
    await show();
  }

  start().catch((e) => report("Cannot start: " + e.message, "error"));
})();

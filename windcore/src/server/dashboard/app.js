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
// view they belong to.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  /** Longest range drawn with its raw samples, in days (beyond: statistics only). */
  const RAW_MAX_DAYS = 7;
  /** Rows of the statistics table drawn at most. */
  const TABLE_MAX_ROWS = 1008;
  /** Longest range the page asks for, in days. */
  const VIEW_MAX_DAYS = 366;
  const WINDOW_SECS = 600;
  const STATS = ["mean", "min", "max", "std", "count"];
  const UNITS = {
    wind_speed: "m/s", power: "kW", ambient_temperature: "°C",
    wind_direction: "°", nacelle_position: "°",
  };

  const W = (window.windcore = {
    ready: false, loading: false, seq: 0, view: null, timings: null,
    charts: {}, errors: [], lastAction: null, coverage: null, drawn: {},
  });

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

  // Days are "YYYY-MM-DD" strings, UTC.
  function dayMs(day) {
    const [y, m, d] = day.split("-").map(Number);
    return Date.UTC(y, m - 1, d);
  }
  function addDays(day, n) {
    return new Date(dayMs(day) + n * 86400000).toISOString().slice(0, 10);
  }
  function daysBetween(a, b) {
    return Math.round((dayMs(b) - dayMs(a)) / 86400000);
  }
  function isDay(s) {
    return typeof s === "string" && /^\d{4}-\d{2}-\d{2}$/.test(s) && !isNaN(dayMs(s));
  }

  // Timestamps arrive as RFC 3339 UTC ("2024-01-01T00:10:00Z"); seconds since the epoch.
  let lastTsText = "", lastTs = 0;
  function tsSecs(text) {
    if (text === lastTsText) return lastTs;
    lastTsText = text;
    lastTs = Date.parse(text) / 1000;
    return lastTs;
  }

  function fmt(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    const a = Math.abs(v);
    const d = digits !== undefined ? digits : a >= 1000 ? 0 : a >= 100 ? 1 : 2;
    return v.toFixed(d);
  }

  function esc(s) {
    return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
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
    drawCalendar();
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

  // ------------------------------------------------------------- charts

  function destroyCharts() {
    for (const u of Object.values(W.charts)) u.destroy();
    W.charts = {};
    $("charts").innerHTML = "";
  }

  let syncing = false;
  function syncScales(src) {
    if (syncing) return;
    syncing = true;
    const { min, max } = src.scales.x;
    for (const u of Object.values(W.charts)) {
      if (u !== src && (u.scales.x.min !== min || u.scales.x.max !== max)) {
        u.setScale("x", { min, max });
      }
    }
    syncing = false;
  }

  /** Wheel to zoom around the cursor, shift-drag to pan. */
  function zoomPanPlugin() {
    return {
      hooks: {
        ready(u) {
          const over = u.over;
          over.addEventListener("wheel", (e) => {
            e.preventDefault();
            const { min, max } = u.scales.x;
            const rect = over.getBoundingClientRect();
            const frac = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
            const at = min + frac * (max - min);
            const range = (max - min) * (e.deltaY < 0 ? 0.8 : 1.25);
            const x0 = u.data[0][0], x1 = u.data[0][u.data[0].length - 1];
            let lo = at - frac * range, hi = lo + range;
            if (range >= x1 - x0) { lo = x0; hi = x1; }
            else if (lo < x0) { hi += x0 - lo; lo = x0; }
            else if (hi > x1) { lo -= hi - x1; hi = x1; }
            u.setScale("x", { min: lo, max: hi });
          }, { passive: false });
          u.root.addEventListener("mousedown", (e) => {
            if (!e.shiftKey || !over.contains(e.target)) return;
            e.preventDefault();
            e.stopPropagation();
            const start = e.clientX;
            const { min, max } = u.scales.x;
            const perPx = (max - min) / over.clientWidth;
            const move = (m) => {
              const dx = (m.clientX - start) * perPx;
              u.setScale("x", { min: min - dx, max: max - dx });
            };
            const up = () => {
              document.removeEventListener("mousemove", move);
              document.removeEventListener("mouseup", up);
            };
            document.addEventListener("mousemove", move);
            document.addEventListener("mouseup", up);
          }, true);
        },
      },
    };
  }

  /** Where each series is in a chart's data (also `window.windcore.series`). */
  const SERIES = { x: 0, min: 1, max: 2, stdLow: 3, stdHigh: 4, raw: 5, mean: 6 };
  W.series = SERIES;

  /**
   * The chart data of one variable: x = the raw samples' times and the
   * windows' starts, merged; the statistics are held over their window
   * [t, t + 10 min) (drawn as steps), absent where a window is absent.
   * Order: see SERIES (bands first, so that the samples and the mean are
   * drawn over them).
   */
  function chartData(raw, stats, v) {
    const rx = raw ? raw.x : [];
    const rv = raw ? raw.v[v] : [];
    const sx = stats.x;
    const get = (st) => stats.s[v + "_" + st] || null;
    const mean = get("mean"), min = get("min"), max = get("max"), std = get("std");
    const x = [], r = [], m = [], lo = [], hi = [], sdlo = [], sdhi = [];
    let i = 0, j = 0, w = -1; // w: index of the window holding the current time
    const push = (t, rawValue) => {
      while (j < sx.length && sx[j] <= t) { w = j; j++; }
      const inWin = w >= 0 && t < sx[w] + WINDOW_SECS;
      x.push(t);
      r.push(rawValue);
      const mv = inWin && mean ? mean[w] : null;
      m.push(mv);
      lo.push(inWin && min ? min[w] : null);
      hi.push(inWin && max ? max[w] : null);
      const sd = inWin && std ? std[w] : null;
      sdlo.push(mv !== null && sd !== null ? mv - sd : null);
      sdhi.push(mv !== null && sd !== null ? mv + sd : null);
    };
    while (i < rx.length || j < sx.length) {
      const a = i < rx.length ? rx[i] : Infinity;
      const b = j < sx.length ? sx[j] : Infinity;
      if (a <= b) {
        push(a, rv[i] === undefined ? null : rv[i]);
        i++;
      } else {
        push(b, null);
      }
    }
    // Close the last window so that its step has a width.
    if (w >= 0 && x.length && x[x.length - 1] < sx[w] + WINDOW_SECS - 60) {
      push(sx[w] + WINDOW_SECS - 60, null);
    }
    return [x, lo, hi, sdlo, sdhi, r, m];
  }

  /** UTC tick labels: HH:MM within a day, MM-DD at midnight and for long ranges. */
  function timeTicks(u, splits, axisIdx, space, incr) {
    return splits.map((s) => {
      const iso = new Date(s * 1000).toISOString();
      if (incr >= 86400 || iso.slice(11, 16) === "00:00") return iso.slice(5, 10);
      return iso.slice(11, 16);
    });
  }

  function chartWidth() {
    return Math.max(320, $("charts").clientWidth - 2);
  }

  function makeChart(v, data, withRaw, long, onDrawn) {
    const el = document.createElement("div");
    el.className = "chart";
    el.dataset.variable = v;
    $("charts").append(el);
    const unit = UNITS[v] ? " (" + UNITS[v] + ")" : "";
    const steps = uPlot.paths.stepped({ align: 1 });
    const blue = "31,111,235";
    const value = (u, x) => fmt(x);
    const opts = {
      title: v + unit,
      width: chartWidth(),
      height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      cursor: { sync: { key: "windcore", setSeries: false }, drag: { x: true, y: false } },
      scales: { x: { time: true } },
      series: [
        { label: "time (UTC)", value: (u, t) => t == null ? "–" : new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ") },
        { label: "min", stroke: "rgba(" + blue + ",0.35)", width: 1, paths: steps, value },
        { label: "max", stroke: "rgba(" + blue + ",0.35)", width: 1, paths: steps, value },
        { label: "mean − std", stroke: "rgba(" + blue + ",0)", width: 0, paths: steps, value },
        { label: "mean + std", stroke: "rgba(" + blue + ",0)", width: 0, paths: steps, value },
        { label: "raw", stroke: "rgba(87,96,106,0.75)", width: 1, show: withRaw, spanGaps: false, value },
        { label: "mean", stroke: "rgb(" + blue + ")", width: long ? 1 : 2, paths: steps, value },
      ],
      bands: [
        { series: [SERIES.max, SERIES.min], fill: "rgba(" + blue + ",0.10)" },
        { series: [SERIES.stdHigh, SERIES.stdLow], fill: "rgba(" + blue + ",0.22)" },
      ],
      axes: [{ values: timeTicks }, { size: 60 }],
      plugins: [zoomPanPlugin()],
      hooks: {
        setScale: [(u, key) => { if (key === "x") syncScales(u); }],
        draw: [() => onDrawn()],
      },
    };
    const u = new uPlot(opts, data, el);
    W.charts[v] = u;
    return u;
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
    highlightCalendar();
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

  // ------------------------------------------------------------- calendar

  /** Up to this many days the calendar is one row per asset; beyond, a row per asset and month. */
  const CAL_ONE_ROW_DAYS = 62;

  function calendarCell(c, d, a, numbers, counts) {
    const w = d.windows[a] || 0;
    // The API counts a complete day's windows: 138 or 150 on DST days.
    const expected = d.expected_windows != null ? d.expected_windows : c.expected_windows;
    let cls;
    if (w >= expected) cls = "full";
    else if (w > 0) { cls = "partial"; counts.incomplete++; }
    else if (d.source) { cls = "missing"; counts.incomplete++; }
    else { cls = "nosource"; counts.gaps++; }
    const title = d.day + (a ? " " + a : "") + ": " + w + " of " + expected +
      " windows" + (d.source ? "" : ", no samples in the source");
    return '<span class="cell ' + cls + '" data-day="' + d.day + '" data-asset="' + esc(a) +
      '" data-windows="' + w + '" title="' + esc(title) + '">' + (numbers ? w : "") + "</span>";
  }

  function drawCalendar() {
    const el = $("calendar");
    el.innerHTML = "";
    const c = state.coverage;
    if (!c || !c.days.length || !state.info.target) {
      el.textContent = !state.info.target
        ? "The server has no target: no statistics to show (start it with --target)."
        : "No data yet.";
      $("coverage-label").textContent = "";
      return;
    }
    const assets = c.assets.length ? c.assets : [""];
    const n = c.days.length;
    const oneRow = n <= CAL_ONE_ROW_DAYS;
    const slots = oneRow ? n : 31;
    const avail = Math.max(200, el.clientWidth - 96 - 8);
    const cellW = Math.max(5, Math.min(40, Math.floor(avail / slots) - 2));
    const numbers = cellW >= 26;
    el.style.setProperty("--cell", cellW + "px");
    el.classList.toggle("by-month", !oneRow);
    const counts = { incomplete: 0, gaps: 0 };
    const rows = [];
    if (oneRow) {
      rows.push('<div class="cal-row cal-head"><span class="cal-label"></span>' + c.days.map((d) => {
        const day = d.day.slice(8);
        const text = numbers ? day : day === "01" ? d.day.slice(5, 7) : "";
        return '<span class="cal-day">' + text + "</span>";
      }).join("") + "</div>");
      for (const a of assets) {
        let html = '<div class="cal-row" data-asset="' + esc(a) + '"><span class="cal-label">' + esc(a || "all") + "</span>";
        for (const d of c.days) html += calendarCell(c, d, a, numbers, counts);
        rows.push(html + "</div>");
      }
    } else {
      rows.push('<div class="cal-row cal-head"><span class="cal-label"></span>' +
        Array.from({ length: 31 }, (_, i) => '<span class="cal-day">' + (numbers || i % 5 === 0 ? i + 1 : "") + "</span>").join("") +
        "</div>");
      const months = [];
      for (const d of c.days) {
        const m = d.day.slice(0, 7);
        if (!months.length || months[months.length - 1].m !== m) months.push({ m, days: [] });
        months[months.length - 1].days.push(d);
      }
      for (const a of assets) {
        for (const { m, days } of months) {
          let html = '<div class="cal-row" data-asset="' + esc(a) + '"><span class="cal-label">' +
            esc((a ? a + " " : "") + m) + "</span>";
          const skip = Number(days[0].day.slice(8)) - 1;
          for (let i = 0; i < skip; i++) html += '<span class="cell blank"></span>';
          for (const d of days) html += calendarCell(c, d, a, numbers, counts);
          rows.push(html + "</div>");
        }
      }
    }
    el.innerHTML = rows.join("");
    $("coverage-label").textContent = c.first + " .. " + c.last + " · " + counts.incomplete +
      " incomplete and " + counts.gaps + " missing (day, asset) pair(s)";
    highlightCalendar();
  }

  function highlightCalendar() {
    // A long range is not outlined: it would outline everything.
    const short = state.from && daysBetween(state.from, state.to) < 31;
    for (const cell of $("calendar").querySelectorAll(".cell[data-day]")) {
      const d = cell.dataset.day;
      const inView = short && daysBetween(state.from, d) >= 0 && daysBetween(d, state.to) >= 0;
      const assetMatch = !state.asset || cell.dataset.asset === state.asset;
      cell.classList.toggle("sel", Boolean(inView && assetMatch));
    }
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
      drawCalendar();
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

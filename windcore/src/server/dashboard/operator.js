// windcore dashboard: the operator's charts (plain JavaScript, no build step).
//
// * power curve: the 10-minute mean power against the mean wind speed of the
//   selected turbine, coloured by its dominant operating state (signals
//   `<state>_seconds_<code>`), else by its availability, else by density;
//   with the binned mean (0.5 m/s bins) as a line;
// * wind rose: the windows' mean direction (a channel named like
//   `*direction*`) in 16 sectors, stacked by wind speed class;
// * farm: one channel's 10-minute mean of every turbine on one chart;
// * availability: per turbine and day from GET /availability, beside the
//   coverage calendar.
//
// app.js calls `window.windcoreOperator.draw(ctx)` after each view and
// `drawAvailability(ctx)` after each coverage. What is drawn is reported in
// `window.windcore.drawn[name] = {points, seq, ...}` (names `power_curve`,
// `wind_rose`, `farm`, `availability`); a chart that cannot be drawn (no such
// signals) is absent from it.
(function () {
  "use strict";

  const { $, addDays, daysBetween } = window.windcoreCommon;
  /** Longest range the operator's charts read, in days (the newest days of the view). */
  const MAX_DAYS = 31;
  const AVAILABILITY_SIGNALS = ["available_seconds", "unavailable_seconds", "excluded_seconds", "unknown_seconds"];
  const STATE_COLOURS = {
    running: "#2da44e", low_wind: "#54aeff", fault: "#cf222e", maintenance: "#bc4c00",
    high_wind: "#8250df", nodata: "#8c959f",
  };
  const PALETTE = ["#1f6feb", "#d4a72c", "#8250df", "#bf3989", "#1b7c83", "#953800", "#57606a", "#4ac26b",
    "#0969da", "#cf222e", "#116329", "#9a6700"];
  const SPEED_CLASSES = [[0, 3], [3, 6], [6, 9], [9, 12], [12, 15], [15, Infinity]];
  const SPEED_COLOURS = ["#d1e5f0", "#92c5de", "#4393c3", "#f4a582", "#d6604d", "#b2182b"];
  const DENSITY = ["density: sparse", "density: low", "density: high", "density: dense"];
  const SECTORS = 16;
  const COMPASS = ["N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"];

  const charts = {}; // uPlot instances of this module
  let farmChannel = null;

  function report(W, name, info) {
    W.drawn = W.drawn || {};
    W.drawn[name] = info;
  }
  function forget(W, name) {
    if (W.drawn) delete W.drawn[name];
  }

  /** The signals of the target: {rows by asset: Map(asset -> Map(t -> {signal: value}))}. */
  async function fetchSignals(ctx, from, to, signals, asset) {
    const out = new Map();
    if (!signals.length) return out;
    const parts = await ctx.inParallel(
      ctx.chunks(from, to, ctx.info.max_range_days).map(([a, b]) => () =>
        ctx.api("/signals?" + ctx.qs({ start: a, end: b, signal: signals.join(","), asset }))),
      4);
    for (const rows of parts) {
      for (const r of rows) {
        const key = r.asset === undefined ? "" : r.asset;
        let m = out.get(key);
        if (!m) { m = new Map(); out.set(key, m); }
        const t = ctx.tsSecs(r.timestamp);
        let w = m.get(t);
        if (!w) { w = {}; m.set(t, w); }
        w[r.signal] = r.value;
      }
    }
    return out;
  }

  /** The state signals `<state>_seconds_<code>` of one state channel: {channel, signals: [{name, code}]}. */
  function stateSignals(names) {
    const groups = new Map();
    for (const n of names) {
      const m = /^(.+)_seconds_(.+)$/.exec(n);
      if (!m || AVAILABILITY_SIGNALS.includes(n)) continue;
      if (!groups.has(m[1])) groups.set(m[1], []);
      groups.get(m[1]).push({ name: n, code: m[2] });
    }
    if (!groups.size) return null;
    const channel = groups.has("state") ? "state" : [...groups.keys()][0];
    return { channel, signals: groups.get(channel) };
  }

  /** The name of a state code: the demo farm's names for its numbers (from /info), else the code. */
  function stateName(ctx, code) {
    if (code === "nodata") return "nodata";
    const known = ctx.info.states || [];
    const n = Number(code);
    for (const [c, name] of known) if (c === n) return name;
    return String(code);
  }

  function directionVariable(names) {
    const means = names.filter((n) => n.endsWith("_mean")).map((n) => n.slice(0, -5));
    return means.find((v) => v === "wind_direction") || means.find((v) => v.includes("direction")) || null;
  }

  function chartWidth(el, fallback) {
    return Math.max(300, (el.clientWidth || fallback) - 2);
  }

  // ------------------------------------------------------------- power curve

  /**
   * Power curve data: x = wind speeds (sorted), one series of points per
   * colour class, and the binned mean power as a line.
   */
  function powerCurveData(ctx, windows) {
    const names = ctx.names || [];
    const st = stateSignals(names);
    const hasAvailability = names.includes("availability");
    const pts = [];
    for (const w of windows.values()) {
      const ws = w.wind_speed_mean, p = w.power_mean;
      if (ws == null || p == null) continue;
      let cls = null;
      if (st) {
        let best = -1;
        for (const s of st.signals) {
          const v = w[s.name];
          if (v != null && v > best) { best = v; cls = stateName(ctx, s.code); }
        }
        if (cls === null) cls = "nodata";
      } else if (hasAvailability) {
        const a = w.availability;
        cls = a == null ? "no availability" : a >= 1 ? "available" : a <= 0 ? "unavailable" : "partly available";
      }
      pts.push({ ws, p, cls });
    }
    let mode = st ? "state" : hasAvailability ? "availability" : "density";
    if (mode === "density") {
      // Points coloured by how many windows fall in their 0.5 m/s × 2 % of max power cell.
      const pmax = Math.max(1, ...pts.map((q) => q.p));
      const cell = (q) => Math.floor(q.ws * 2) + ":" + Math.floor((q.p / pmax) * 50);
      const counts = new Map();
      for (const q of pts) counts.set(cell(q), (counts.get(cell(q)) || 0) + 1);
      const top = Math.max(1, ...counts.values());
      for (const q of pts) {
        q.cls = DENSITY[Math.min(3, Math.floor((counts.get(cell(q)) / top) * 4))];
      }
    }
    // Series order is drawing order: the densest windows, and the rare states, on top.
    const known = mode === "state" ? Object.keys(STATE_COLOURS) : mode === "density" ? DENSITY : [];
    const order = (c) => { const i = known.indexOf(c); return i < 0 ? -1 : i; };
    const classes = [...new Set(pts.map((q) => q.cls))]
      .sort((a, b) => order(a) - order(b) || String(a).localeCompare(String(b)));
    // Binned mean power (0.5 m/s bins, at the bins' centres), of all windows.
    const bins = new Map();
    for (const q of pts) {
      const b = Math.floor(q.ws * 2);
      const e = bins.get(b) || { n: 0, s: 0 };
      e.n++; e.s += q.p;
      bins.set(b, e);
    }
    const rows = pts.map((q) => ({ x: q.ws, cls: q.cls, y: q.p, mean: null }));
    for (const [b, e] of bins) if (e.n >= 3) rows.push({ x: b / 2 + 0.25, cls: null, y: null, mean: e.s / e.n });
    rows.sort((a, b) => a.x - b.x);
    const x = rows.map((r) => r.x);
    const series = classes.map((c) => rows.map((r) => (r.cls === c ? r.y : null)));
    const mean = rows.map((r) => r.mean);
    return { mode, classes, data: [x, ...series, mean], points: pts.length };
  }

  function classColour(mode, cls, i) {
    if (mode === "state") return STATE_COLOURS[cls] || PALETTE[i % PALETTE.length];
    if (mode === "availability") {
      return { available: "#2da44e", "partly available": "#d4a72c", unavailable: "#cf222e" }[cls] || "#8c959f";
    }
    return { "density: sparse": "#bfd7f5", "density: low": "#6ea8fe", "density: high": "#1f6feb", "density: dense": "#0a3069" }[cls] || "#1f6feb";
  }

  function drawPowerCurve(ctx, windows, label) {
    const el = $("power-curve");
    if (charts.power_curve) { charts.power_curve.destroy(); delete charts.power_curve; }
    el.innerHTML = "";
    const names = ctx.names || [];
    if (!names.includes("wind_speed_mean") || !names.includes("power_mean")) {
      el.innerHTML = '<p class="hint">The power curve needs the signals wind_speed_mean and power_mean in the target.</p>';
      forget(ctx.W, "power_curve");
      return;
    }
    const pc = powerCurveData(ctx, windows);
    const pointSeries = pc.classes.map((c, i) => ({
      label: String(c),
      stroke: classColour(pc.mode, c, i),
      fill: classColour(pc.mode, c, i),
      width: 0,
      paths: () => null,
      points: { show: true, size: 4, space: 0, width: 0, fill: classColour(pc.mode, c, i) },
      value: (u, v) => ctx.fmt(v),
    }));
    const opts = {
      title: "Power curve · " + label + " · coloured by " + pc.mode,
      width: chartWidth(el, 640),
      height: 340,
      scales: { x: { time: false }, y: { range: (u, lo, hi) => [0, Math.max(100, hi * 1.05)] } },
      cursor: { drag: { x: true, y: true } },
      legend: { live: false },
      series: [
        { label: "mean wind speed (m/s)", value: (u, v) => ctx.fmt(v) },
        ...pointSeries,
        { label: "binned mean", stroke: "#1f2328", width: 2, spanGaps: true, points: { show: false }, value: (u, v) => ctx.fmt(v) },
      ],
      axes: [
        { label: "10-minute mean wind speed (m/s)", labelSize: 24 },
        { label: "10-minute mean power (kW)", labelSize: 24, size: 60 },
      ],
    };
    charts.power_curve = new uPlot(opts, pc.data, el);
    el.dataset.points = pc.points;
    report(ctx.W, "power_curve", { points: pc.points, seq: ctx.seq, colour: pc.mode, classes: pc.classes.map(String) });
  }

  // ------------------------------------------------------------- wind rose

  function windRoseData(windows, dir) {
    const counts = Array.from({ length: SECTORS }, () => SPEED_CLASSES.map(() => 0));
    let n = 0;
    for (const w of windows.values()) {
      const d = w[dir + "_mean"], ws = w.wind_speed_mean;
      if (d == null || ws == null) continue;
      const s = Math.floor((((d % 360) + 360 + 360 / SECTORS / 2) % 360) / (360 / SECTORS)) % SECTORS;
      const k = SPEED_CLASSES.findIndex(([a, b]) => ws >= a && ws < b);
      if (k < 0) continue;
      counts[s][k]++;
      n++;
    }
    return { counts, n };
  }

  function drawWindRose(ctx, windows, label) {
    const el = $("wind-rose");
    el.innerHTML = "";
    const dir = directionVariable(ctx.names || []);
    if (!dir || !(ctx.names || []).includes("wind_speed_mean")) {
      el.innerHTML = '<p class="hint">No direction channel in the target\'s statistics: run the ETL with ' +
        "<code>--variables wind_speed,power,wind_direction --angles wind_direction</code> for a wind rose.</p>";
      forget(ctx.W, "wind_rose");
      return;
    }
    const { counts, n } = windRoseData(windows, dir);
    const size = Math.min(420, Math.max(300, el.clientWidth || 420));
    const title = document.createElement("div");
    title.className = "op-title";
    title.textContent = "Wind rose · " + label + " · " + n + " windows of " + dir;
    const canvas = document.createElement("canvas");
    const dpr = window.devicePixelRatio || 1;
    canvas.width = size * dpr;
    canvas.height = size * dpr;
    canvas.style.width = size + "px";
    canvas.style.height = size + "px";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", title.textContent);
    el.append(title, canvas);
    const g = canvas.getContext("2d");
    g.scale(dpr, dpr);
    const cx = size / 2, cy = size / 2, R = size / 2 - 34;
    const totals = counts.map((c) => c.reduce((a, b) => a + b, 0));
    const maxPct = n ? (Math.max(...totals) / n) * 100 : 10;
    const step = maxPct > 40 ? 10 : maxPct > 20 ? 5 : maxPct > 8 ? 2.5 : 1;
    const top = Math.max(step, Math.ceil(maxPct / step) * step);
    const r = (pct) => (pct / top) * R;
    g.font = "11px system-ui, sans-serif";
    g.strokeStyle = "#d0d7de";
    g.fillStyle = "#656d76";
    g.lineWidth = 1;
    // Rings with their percentage, spokes with the compass points.
    for (let p = step; p <= top + 1e-9; p += step) {
      g.beginPath();
      g.arc(cx, cy, r(p), 0, 2 * Math.PI);
      g.stroke();
    }
    for (let i = 0; i < SECTORS; i++) {
      const a = ((i * 360) / SECTORS - 90) * (Math.PI / 180);
      g.beginPath();
      g.moveTo(cx, cy);
      g.lineTo(cx + R * Math.cos(a), cy + R * Math.sin(a));
      g.stroke();
      if (i % 2 === 0) {
        g.fillStyle = "#1f2328";
        g.textAlign = "center";
        g.textBaseline = "middle";
        g.font = (i % 4 === 0 ? "bold " : "") + "12px system-ui, sans-serif";
        g.fillText(COMPASS[i], cx + (R + 16) * Math.cos(a), cy + (R + 16) * Math.sin(a));
        g.fillStyle = "#656d76";
        g.font = "11px system-ui, sans-serif";
        g.textBaseline = "alphabetic";
      }
    }
    // Stacked wedges: calm classes inside.
    const half = (Math.PI / SECTORS) * 0.85;
    for (let s = 0; s < SECTORS; s++) {
      const a = ((s * 360) / SECTORS - 90) * (Math.PI / 180);
      let acc = 0;
      for (let k = 0; k < SPEED_CLASSES.length; k++) {
        const c = counts[s][k];
        if (!c) continue;
        const inner = r((acc / n) * 100);
        acc += c;
        const outer = r((acc / n) * 100);
        g.beginPath();
        g.arc(cx, cy, outer, a - half, a + half);
        g.arc(cx, cy, inner, a + half, a - half, true);
        g.closePath();
        g.fillStyle = SPEED_COLOURS[k];
        g.fill();
        g.strokeStyle = "rgba(31,35,40,0.35)";
        g.stroke();
      }
    }
    // The rings' percentages on top, along the south-east diagonal (winds from there are rarer here).
    g.font = "11px system-ui, sans-serif";
    g.textAlign = "left";
    g.textBaseline = "middle";
    g.lineWidth = 3;
    g.strokeStyle = "rgba(255,255,255,0.9)";
    g.fillStyle = "#57606a";
    const diag = Math.PI / 8 + Math.PI / 4;
    for (let p = step; p <= top + 1e-9; p += step) {
      const tx = cx + r(p) * Math.cos(diag) + 2, ty = cy + r(p) * Math.sin(diag);
      g.strokeText(p + " %", tx, ty);
      g.fillText(p + " %", tx, ty);
    }
    g.lineWidth = 1;
    const legend = document.createElement("div");
    legend.className = "op-legend";
    legend.innerHTML = "wind speed (m/s): " + SPEED_CLASSES.map(([a, b], k) =>
      '<span class="swatch" style="background:' + SPEED_COLOURS[k] + '"></span>' +
      (b === Infinity ? "≥ " + a : a + "–" + b)).join(" ");
    el.append(legend);
    el.dataset.points = n;
    report(ctx.W, "wind_rose", { points: n, seq: ctx.seq, sectors: SECTORS, channel: dir });
  }

  // ------------------------------------------------------------- farm

  function farmChannels(names) {
    return names.filter((n) => n.endsWith("_mean")).map((n) => n.slice(0, -5));
  }

  function drawFarm(ctx, byAsset, channel, label) {
    const el = $("farm-chart");
    if (charts.farm) { charts.farm.destroy(); delete charts.farm; }
    el.innerHTML = "";
    const assets = [...byAsset.keys()].sort();
    if (!assets.length) {
      el.innerHTML = '<p class="hint">No ' + ctx.esc(channel) + "_mean in the target for these days.</p>";
      forget(ctx.W, "farm");
      return;
    }
    const xs = new Set();
    for (const m of byAsset.values()) for (const t of m.keys()) xs.add(t);
    const x = [...xs].sort((a, b) => a - b);
    const index = new Map(x.map((t, i) => [t, i]));
    let points = 0;
    const series = assets.map((a) => {
      const col = new Array(x.length).fill(null);
      for (const [t, w] of byAsset.get(a)) {
        const v = w[channel + "_mean"];
        if (v != null) { col[index.get(t)] = v; points++; }
      }
      return col;
    });
    const unit = ctx.units[channel] ? " (" + ctx.units[channel] + ")" : "";
    const opts = {
      title: "Farm · " + channel + unit + " · 10-minute mean of every turbine · " + label,
      width: chartWidth(el, 900),
      height: 300,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      scales: { x: { time: true } },
      cursor: { drag: { x: true, y: false } },
      series: [
        { label: "window start (UTC)", value: (u, t) => t == null ? "–" : new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ") },
        ...assets.map((a, i) => ({
          label: a || "all", stroke: PALETTE[i % PALETTE.length], width: 1.25, spanGaps: false,
          value: (u, v) => ctx.fmt(v),
        })),
      ],
      axes: [{ values: ctx.timeTicks }, { size: 60, label: channel + unit, labelSize: 24 }],
    };
    charts.farm = new uPlot(opts, [x, ...series], el);
    el.dataset.points = points;
    report(ctx.W, "farm", { points, seq: ctx.seq, channel, assets: assets.length });
  }

  function fillFarmSelect(ctx) {
    const sel = $("farm-channel");
    const channels = farmChannels(ctx.names || []);
    if (!farmChannel || !channels.includes(farmChannel)) {
      farmChannel = channels.includes("power") ? "power" : channels[0] || null;
    }
    sel.innerHTML = channels.map((c) => "<option" + (c === farmChannel ? " selected" : "") + ">" + ctx.esc(c) + "</option>").join("");
    return farmChannel;
  }

  // ------------------------------------------------------------- availability

  function availabilityClass(a) {
    if (a == null) return "a-none";
    if (a >= 0.97) return "a-good";
    if (a >= 0.9) return "a-fair";
    return "a-poor";
  }

  /** Draws GET /availability for the coverage's days; resolves when drawn. */
  async function drawAvailability(ctx) {
    const el = $("availability");
    const label = $("availability-label");
    const c = ctx.coverage;
    if (!ctx.info.target || !c || !c.first) {
      el.textContent = "";
      label.textContent = "";
      forget(ctx.W, "availability");
      return;
    }
    const days = daysBetween(c.first, c.last) + 1;
    const first = days > 62 ? addDays(c.last, -61) : c.first;
    const av = await ctx.api("/availability?" + ctx.qs({ from: first, to: c.last }));
    ctx.W.availability = av;
    if (!av.assets.length) {
      el.innerHTML = '<p class="hint">The target holds no availability signals for these days: run the ETL with ' +
        "an availability mapping (<code>--availability FILE</code>) to see availability per turbine and day.</p>";
      label.textContent = "";
      forget(ctx.W, "availability");
      return;
    }
    const avail = Math.max(200, (el.clientWidth || 900) - 96 - 70);
    const cellW = Math.max(5, Math.min(40, Math.floor(avail / av.days.length) - 2));
    el.style.setProperty("--cell", cellW + "px");
    const numbers = cellW >= 26;
    const rows = ['<div class="cal-row cal-head"><span class="cal-label"></span>' + av.days.map((d) => {
      const day = d.day.slice(8);
      return '<span class="cal-day">' + (numbers ? day : day === "01" ? d.day.slice(5, 7) : "") + "</span>";
    }).join("") + '<span class="cal-total">period</span></div>'];
    let points = 0;
    for (const a of av.assets) {
      let html = '<div class="cal-row" data-asset="' + ctx.esc(a) + '"><span class="cal-label">' + ctx.esc(a || "all") + "</span>";
      for (const d of av.days) {
        const s = d.assets[a];
        if (!s) {
          html += '<span class="cell nosource" data-day="' + d.day + '" data-asset="' + ctx.esc(a) + '" title="' +
            d.day + " " + ctx.esc(a) + ': no availability signals"></span>';
          continue;
        }
        points++;
        const pct = s.availability == null ? null : s.availability * 100;
        const title = d.day + " " + a + ": " + (pct == null ? "no available or unavailable time" : pct.toFixed(2) + " % available") +
          " · available " + Math.round(s.available_seconds / 60) + " min, unavailable " + Math.round(s.unavailable_seconds / 60) +
          " min, excluded " + Math.round(s.excluded_seconds / 60) + " min, unknown " + Math.round(s.unknown_seconds / 60) + " min";
        html += '<span class="cell ' + availabilityClass(s.availability) + '" data-day="' + d.day + '" data-asset="' + ctx.esc(a) +
          '" data-availability="' + (s.availability == null ? "" : s.availability) + '" title="' + ctx.esc(title) + '">' +
          (numbers && pct != null ? Math.floor(pct) : "") + "</span>";
      }
      const t = av.total[a];
      html += '<span class="cal-total">' + (t && t.availability != null ? (t.availability * 100).toFixed(1) + " %" : "–") + "</span>";
      rows.push(html + "</div>");
    }
    el.innerHTML = rows.join("");
    label.textContent = av.first + " .. " + av.last + " · available / (available + unavailable) time of each day";
    report(ctx.W, "availability", { points, seq: ctx.seq, assets: av.assets.length, days: av.days.length });
  }

  // ------------------------------------------------------------- entry

  /** Draws the power curve, the wind rose and the farm view of ctx's range. */
  async function draw(ctx) {
    const names = ctx.names || [];
    let from = ctx.from;
    if (daysBetween(from, ctx.to) >= MAX_DAYS) from = addDays(ctx.to, -(MAX_DAYS - 1));
    const label = (from === ctx.to ? from : from + " .. " + ctx.to);
    const asset = ctx.asset;
    const st = stateSignals(names);
    const dir = directionVariable(names);
    const wanted = ["wind_speed_mean", "power_mean"]
      .concat(dir ? [dir + "_mean"] : [], st ? st.signals.map((s) => s.name) : [],
        names.includes("availability") ? ["availability"] : [])
      .filter((n) => names.includes(n));
    const channel = fillFarmSelect(ctx);
    const [one, farm] = await Promise.all([
      fetchSignals(ctx, from, ctx.to, wanted, asset),
      channel ? fetchSignals(ctx, from, ctx.to, [channel + "_mean"], "") : Promise.resolve(new Map()),
    ]);
    if (ctx.stale()) return;
    const windows = one.get(asset) || (one.size === 1 ? [...one.values()][0] : new Map());
    const who = (asset ? asset : "all") + " · " + label;
    drawPowerCurve(ctx, windows, who);
    drawWindRose(ctx, windows, who);
    if (channel) drawFarm(ctx, farm, channel, label);
    else {
      $("farm-chart").innerHTML = '<p class="hint">No 10-minute means in the target.</p>';
      forget(ctx.W, "farm");
    }
  }

  function resize() {
    for (const [name, u] of Object.entries(charts)) {
      const el = $(name === "farm" ? "farm-chart" : "power-curve");
      u.setSize({ width: chartWidth(el, 600), height: name === "farm" ? 300 : 340 });
    }
  }

  window.windcoreOperator = {
    draw, drawAvailability, resize,
    setFarmChannel(c) { farmChannel = c; },
  };
})();

// windcore dashboard: the chart of one variable (uPlot): its raw samples,
// the 10-minute mean as steps, the min–max and ± std bands, wheel zoom and
// shift-drag pan, the x scales of all charts kept in step. app.js draws
// one per selected variable through `window.windcoreCharts`.
(function () {
  "use strict";

  const { $, WINDOW_SECS, UNITS, fmt } = window.windcoreCommon;

  function destroyCharts(W) {
    for (const u of Object.values(W.charts)) u.destroy();
    W.charts = {};
    $("charts").innerHTML = "";
  }

  let syncing = false;
  function syncScales(W, src) {
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
      const wl = inWin && min ? min[w] : null;
      const wh = inWin && max ? max[w] : null;
      lo.push(wl);
      hi.push(wh);
      // The ± std band within the min–max band: the mean ± std of a window
      // that jumps (power from 2 MW to 0) reaches past what it held (below 0 kW).
      const sd = inWin && std ? std[w] : null;
      const band = mv !== null && sd !== null;
      sdlo.push(band ? (wl !== null ? Math.max(mv - sd, wl) : mv - sd) : null);
      sdhi.push(band ? (wh !== null ? Math.min(mv + sd, wh) : mv + sd) : null);
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

  /** Draws variable `v`'s chart into #charts; kept in `W.charts[v]`. */
  function makeChart(W, v, data, withRaw, long, onDrawn) {
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
        { label: "mean − std (≥ min)", stroke: "rgba(" + blue + ",0)", width: 0, paths: steps, value },
        { label: "mean + std (≤ max)", stroke: "rgba(" + blue + ",0)", width: 0, paths: steps, value },
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
        setScale: [(u, key) => { if (key === "x") syncScales(W, u); }],
        draw: [() => onDrawn()],
      },
    };
    const u = new uPlot(opts, data, el);
    W.charts[v] = u;
    return u;
  }

  window.windcoreCharts = { SERIES, destroyCharts, chartData, makeChart, timeTicks };
})();

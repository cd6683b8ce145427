// windcore dashboard: what the page's scripts share (plain JavaScript, no
// build step): element lookup, days as "YYYY-MM-DD" strings (UTC), number
// and HTML formatting, the units of the usual channels. The page loads
// this first, as `window.windcoreCommon`.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  /** The statistics' window, in seconds. */
  const WINDOW_SECS = 600;
  const UNITS = {
    wind_speed: "m/s", power: "kW", ambient_temperature: "°C",
    wind_direction: "°", nacelle_position: "°",
  };

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

  function fmt(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    const a = Math.abs(v);
    const d = digits !== undefined ? digits : a >= 1000 ? 0 : a >= 100 ? 1 : 2;
    return v.toFixed(d);
  }

  function esc(s) {
    return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  }

  window.windcoreCommon = { $, WINDOW_SECS, UNITS, dayMs, addDays, daysBetween, isDay, fmt, esc };
})();

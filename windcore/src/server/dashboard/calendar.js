// windcore dashboard: the coverage calendar, a cell per (day, asset) coloured
// by its windows against the day's expected count (full, partial, missing,
// no samples in the source); a row per asset, or per asset and month beyond
// two months. app.js draws it through `window.windcoreCalendar`.
(function () {
  "use strict";

  const { $, daysBetween, esc } = window.windcoreCommon;

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

  /** Draws the coverage of the page's `state` (its `coverage`, `info`, `from`, `to`, `asset`) into #calendar. */
  function drawCalendar(state) {
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
    highlightCalendar(state);
  }

  /** Outlines the cells of the view (`state.from` .. `state.to`, `state.asset`). */
  function highlightCalendar(state) {
    // A long range is not outlined: it would outline everything.
    const short = state.from && daysBetween(state.from, state.to) < 31;
    for (const cell of $("calendar").querySelectorAll(".cell[data-day]")) {
      const d = cell.dataset.day;
      const inView = short && daysBetween(state.from, d) >= 0 && daysBetween(d, state.to) >= 0;
      const assetMatch = !state.asset || cell.dataset.asset === state.asset;
      cell.classList.toggle("sel", Boolean(inView && assetMatch));
    }
  }

  window.windcoreCalendar = { draw: drawCalendar, highlight: highlightCalendar };
})();

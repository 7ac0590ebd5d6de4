// Small page helpers of the command center: the header clock and the elapsed-time counters of
// open alarms, ticking in the browser so the server sends nothing for them.
(function () {
  if (window.ccTicker) return;
  function fmt(s) {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    if (h) return h + "小时" + String(m).padStart(2, "0") + "分";
    if (m) return m + "分" + String(x).padStart(2, "0") + "秒";
    return x + "秒";
  }
  window.ccFmtElapsed = fmt;
  function tick() {
    const now = Date.now() / 1000;
    document.querySelectorAll(".cc-elapsed[data-since]").forEach(function (el) {
      const s = now - parseFloat(el.dataset.since);
      el.textContent = fmt(s);
      el.classList.toggle("cc-overdue", s > parseFloat(el.dataset.limit || "1e12"));
    });
    const clock = document.getElementById("cc-clock");
    if (clock) {
      clock.textContent = new Date().toLocaleString("zh-CN", {
        hour12: false, timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
        weekday: "short", hour: "2-digit", minute: "2-digit", second: "2-digit",
      });
    }
  }
  window.ccTicker = setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
})();

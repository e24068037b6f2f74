// sharetrail web UI: copy buttons, the phone menu, the viewer's time zone. The pages work
// without this file.
"use strict";
document.documentElement.classList.add("js");

// On a phone the main navigation folds behind a Menu button (only with script: without it the
// navigation simply stays open).
document.addEventListener("click", function (event) {
  var toggle = event.target.closest(".menu-toggle");
  if (!toggle) return;
  var open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  toggle.closest(".topbar").classList.toggle("open", open);
});
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy], button[data-copy-from]");
  if (!button) return;
  var text = button.getAttribute("data-copy");
  if (text === null) {
    var source = document.getElementById(button.getAttribute("data-copy-from"));
    text = source ? source.value : "";
  }
  var done = function () {
    var label = button.textContent;
    button.textContent = "Copied";
    button.setAttribute("aria-live", "polite");
    setTimeout(function () { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, function () {});
  } else {
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); done(); } catch (e) { /* the field stays selectable */ }
    area.remove();
  }
});

// Analytics in the viewer's time zone: the server reads it from a cookie when the address names
// none. A page shown in the default zone (UTC) before the cookie existed is shown again, once.
(function () {
  var report = document.getElementById("report");
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || !/^[A-Za-z0-9_\/+\-]+$/.test(zone)) return;
  document.cookie = "sharetrail-tz=" + zone + "; path=/app; max-age=31536000; SameSite=Lax";
  var shown = report && report.getAttribute("data-tz-source") === "default" && report.getAttribute("data-tz") !== zone;
  if (shown && !sessionStorage.getItem("sharetrail-tz-reloaded")) {
    sessionStorage.setItem("sharetrail-tz-reloaded", "1");
    location.reload();
  }
})();

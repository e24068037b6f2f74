// sharetrail web UI: copy buttons. The pages work without this file.
"use strict";
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

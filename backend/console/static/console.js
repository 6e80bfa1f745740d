// Progressive enhancement only: every page works without this file.
// 1. The fleet table refreshes itself every few seconds (data-refresh on #fleet).
// 2. A decision form asks for confirmation first (data-confirm).
(function () {
  "use strict";
  var fleet = document.getElementById("fleet");
  if (fleet && window.fetch) {
    var every = (parseInt(fleet.getAttribute("data-refresh"), 10) || 10) * 1000;
    setInterval(function () {
      // The header says "not a person": an open wallboard does not keep the session alive.
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Console-Refresh": "1" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("fleet");
          if (fresh) { fleet.innerHTML = fresh.innerHTML; }
        })
        .catch(function () { /* offline for a moment: keep what is shown */ });
    }, every);
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();

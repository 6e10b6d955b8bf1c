// Live order status: every order still pending on the page is polled on the
// storefront's own origin (GET /orders/{id}/status, with the session cookie)
// until it reaches a final status; the page then shows the status and its
// reason, and drops the cancel button where cancelling no longer applies.
(function () {
  "use strict";
  var INTERVAL_MS = 1000;

  function update(el, s) {
    el.dataset.status = s.status;
    var status = el.querySelector(".status");
    status.textContent = s.status;
    status.className = "status status-" + s.status;
    el.querySelector(".reason").textContent = s.reason ? " — " + s.reason : "";
    if (!s.cancellable) {
      var form = el.querySelector("form.cancel");
      if (form) form.remove();
    }
  }

  function poll(el) {
    var id = el.dataset.orderId;
    fetch("/orders/" + encodeURIComponent(id) + "/status", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (s) update(el, s);
        if (!s || s.status === "pending") setTimeout(function () { poll(el); }, INTERVAL_MS);
      })
      .catch(function () { setTimeout(function () { poll(el); }, INTERVAL_MS * 3); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('[data-order-id][data-status="pending"]').forEach(poll);
  });
})();

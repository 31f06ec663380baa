/*
 * The tier configuration's live what-if: while thresholds are typed, posts the form to
 * [data-what-if-url] (at most every 400 ms) and shows how many customers each tier would
 * hold and how many move up and down. Without JavaScript the Preview button does the same.
 */
(function () {
  "use strict";

  var form = document.getElementById("tier-configuration");
  if (!form) {
    return;
  }
  var box = document.getElementById("what-if");
  var url = form.getAttribute("data-what-if-url");
  var timer = null;

  function cell(text, tag) {
    var element = document.createElement(tag || "td");
    element.textContent = text;
    return element;
  }

  function show(preview) {
    var wrapper = document.createElement("div");
    wrapper.className = "alert alert-info";
    wrapper.setAttribute("role", "status");
    var summary = document.createElement("p");
    summary.textContent = "With these thresholds: " + preview.up + " customers move up, " + preview.down + " move down.";
    wrapper.appendChild(summary);
    var table = document.createElement("table");
    table.className = "table table-compact";
    var head = document.createElement("tr");
    ["Tier", "Today", "After saving"].forEach(function (title) { head.appendChild(cell(title, "th")); });
    table.appendChild(head);
    Object.keys(preview.tiers).forEach(function (tier) {
      var row = document.createElement("tr");
      row.appendChild(cell(tier.charAt(0) + tier.slice(1).toLowerCase(), "th"));
      row.appendChild(cell(String(preview.today[tier])));
      row.appendChild(cell(String(preview.tiers[tier])));
      table.appendChild(row);
    });
    wrapper.appendChild(table);
    if (preview.rolling_as_of) {
      var asOf = document.createElement("p");
      asOf.className = "muted small";
      asOf.textContent = "Rolling periods count the figures of the last recalculation (" +
        preview.rolling_as_of.slice(0, 10) + " " + preview.rolling_as_of.slice(11, 16) + ") and every order since.";
      wrapper.appendChild(asOf);
    }
    box.replaceChildren(wrapper);
  }

  function showErrors(errors) {
    var wrapper = document.createElement("div");
    wrapper.className = "alert alert-warning";
    wrapper.setAttribute("role", "alert");
    Object.keys(errors).forEach(function (field) {
      errors[field].forEach(function (message) { wrapper.appendChild(cell(message, "p")); });
    });
    box.replaceChildren(wrapper);
  }

  function preview() {
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (result.ok) { show(result.body); } else { showErrors(result.body.errors || {}); }
      })
      .catch(function () { /* The Preview button still works. */ });
  }

  form.addEventListener("input", function (event) {
    if (event.target.name === "reason") {
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, 400);
  });
})();

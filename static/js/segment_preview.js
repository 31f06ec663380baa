/*
 * The segment form's live preview: while the rules change (typed, or written by the rule
 * builder into the rules input), posts the form to [data-preview-url] (at most every
 * 400 ms) and shows the count and the first members it answers. Without JavaScript the
 * Preview button does the same.
 */
(function () {
  "use strict";

  var form = document.getElementById("segment-form");
  var box = document.getElementById("segment-preview");
  if (!form || !box) {
    return;
  }
  var url = form.getAttribute("data-preview-url");
  var timer = null;
  var last = null;

  function refresh() {
    var data = new FormData(form);
    var rules = data.get("rules");
    if (rules === last) {
      return;
    }
    last = rules;
    fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fragment = document.createRange().createContextualFragment(html);
        box.replaceChildren(fragment);
      })
      .catch(function () { last = null; });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  // The rule builder changes the hidden rules input without an input event.
  form.addEventListener("segment-rules-change", later);
  var rules = form.querySelector("[name=rules]");
  if (rules && rules.value) {
    later();
  }
})();

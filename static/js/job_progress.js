/*
 * Follows a background job on its page: polls the JSON status URL in
 * [data-job-status-url] every second, updates the progress bar and label, and
 * reloads the page when the job has finished (the page then shows the outcome).
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-job-status-url]");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-job-status-url");
  var bar = box.querySelector("[data-job-percent]");
  var label = box.querySelector("[data-job-label]");
  var rows = box.querySelector("[data-job-rows]");

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        if (job.finished) {
          window.location.reload();
          return;
        }
        bar.value = job.percent;
        bar.textContent = job.percent + "%";
        label.textContent = job.label;
        rows.textContent = job.rows_done + (job.total_rows ? " of " + job.total_rows : "") + " rows";
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  window.setTimeout(poll, 500);
})();

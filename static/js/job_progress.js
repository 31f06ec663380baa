/*
 * Follows a background job on its page: polls the JSON status URL in
 * [data-job-status-url], updates the progress bar and label, and reloads the page
 * when nothing more will happen without the user (done, failed, cancelled, or lost
 * its worker), so the page shows the outcome with its buttons. A failed poll is
 * said in words and tried again later and later (up to a minute apart).
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
  var problem = box.querySelector("[data-job-poll-error]");
  var INTERVAL = 1000;
  var MAX_DELAY = 60000;
  var delay = INTERVAL;

  function showProblem(reason) {
    problem.textContent = "Could not get the job's progress (" + reason + "). Trying again in " +
      Math.round(delay / 1000) + " s.";
    problem.hidden = false;
  }

  function failed(reason) {
    delay = Math.min(delay * 2, MAX_DELAY);
    showProblem(reason);
    window.setTimeout(poll, delay);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("the server answered " + response.status + " " + response.statusText);
        }
        return response.json();
      })
      .then(function (job) {
        if (job.finished) {
          window.location.reload();
          return;
        }
        delay = INTERVAL;
        problem.hidden = true;
        bar.value = job.percent;
        bar.textContent = job.percent + "%";
        label.textContent = job.label;
        rows.textContent = job.rows_done + (job.total_rows ? " of " + job.total_rows : "") + " rows";
        window.setTimeout(poll, delay);
      })
      .catch(function (error) {
        failed(error instanceof TypeError ? "the server cannot be reached" : error.message);
      });
  }

  window.setTimeout(poll, 500);
})();

/*
 * Customer Back Office: the little JavaScript the app needs (no dependencies).
 * Loaded with <script defer>; the Content-Security-Policy forbids inline scripts
 * and on* attributes, so behaviour is attached here through data attributes:
 *
 *   <select data-autosubmit>          submit the select's form when it changes
 *   <form data-confirm="Sure?">       ask before submitting the form
 *   <button data-confirm="Sure?">     ask before this button submits / acts
 *   <a data-confirm="Sure?">          ask before following the link
 *   <input aria-keyshortcuts="/">     typing "/" elsewhere on the page focuses it
 *
 * Everything works without JavaScript too (selects keep a submit button and the
 * confirmations are only an extra safety net).
 */
(function () {
  "use strict";

  function submitForm(form) {
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(); // fires "submit" so data-confirm on the form applies
    } else {
      form.submit();
    }
  }

  // Auto-submit selects marked with data-autosubmit.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) {
      submitForm(el.form);
    }
  });

  // "/" focuses the search box, unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var active = document.activeElement;
    if (active && (active.isContentEditable || active.matches("input, textarea, select"))) {
      return;
    }
    var search = document.querySelector('[aria-keyshortcuts="/"]');
    if (search) {
      event.preventDefault();
      search.focus();
      search.select();
    }
  });

  // Confirm on clicks of links and buttons carrying data-confirm.
  document.addEventListener("click", function (event) {
    var el = event.target && event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (!el || el.tagName === "FORM") {
      return;
    }
    if (!window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Confirm on submission of forms carrying data-confirm (unless the submit
  // button already asked its own question on click).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-confirm")) {
      return;
    }
    var submitter = event.submitter;
    if (submitter && submitter.hasAttribute("data-confirm")) {
      return;
    }
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  }, true);
})();

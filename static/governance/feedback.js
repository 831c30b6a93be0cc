// Sends "Fandt du det, du ledte efter?" without leaving the page and writes the answer in the
// message below the form. The keyboard focus moves to the message (tabindex="-1"): after a
// thank-you the form is hidden, and the button that had the focus is disabled while sending, so
// the focus would otherwise fall back to the top of the page. The focus is also what makes a
// screen reader read the answer: the message is not a live region as well, which some screen
// readers would read twice.
// Without JavaScript the form posts normally and the page comes back with a thank-you.
(function () {
  "use strict";

  function show(status, text, variant) {
    status.className = "js-page-feedback-status alert alert-" + variant;
    status.textContent = "";
    var body = document.createElement("div");
    body.className = "alert-body";
    var paragraph = document.createElement("p");
    paragraph.className = "alert-text";
    paragraph.id = "page-feedback-answer";
    paragraph.textContent = text;
    body.appendChild(paragraph);
    status.appendChild(body);
    // A named group: a screen reader says the answer when the focus lands on it.
    status.setAttribute("role", "group");
    status.setAttribute("aria-labelledby", paragraph.id);
    status.focus();
  }

  function start() {
    var forms = document.querySelectorAll("form.js-page-feedback");
    Array.prototype.forEach.call(forms, function (form) {
      var status = form.parentNode.querySelector(".js-page-feedback-status");
      form.addEventListener("submit", function (event) {
        if (!window.fetch || !window.FormData || !status) {
          return;
        }
        event.preventDefault();
        var button = form.querySelector("button[type=submit]");
        if (button) {
          button.disabled = true;
        }
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        })
          .then(function (response) {
            return response.json().then(function (data) {
              return { ok: response.ok, message: data.message };
            });
          })
          .then(function (result) {
            if (result.ok) {
              form.hidden = true;
              show(status, result.message, "success");
            } else {
              show(status, result.message, "error");
              if (button) {
                button.disabled = false;
              }
            }
          })
          .catch(function () {
            // Leave it to the browser: a normal submit still works.
            form.submit();
          });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// Sends "Fandt du det, du ledte efter?" without leaving the page and announces the answer in the
// live region. Without JavaScript the form posts normally and the page comes back with a thank-you.
(function () {
  "use strict";

  function show(status, text, variant) {
    status.className = "js-page-feedback-status alert alert-" + variant;
    status.textContent = "";
    var body = document.createElement("p");
    body.className = "alert-text";
    body.textContent = text;
    status.appendChild(body);
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

// Sends "Fandt du det, du ledte efter?" without leaving the page and writes the answer in the
// message below the form. The keyboard focus moves to the message (tabindex="-1"): after a
// thank-you the form is hidden, and the button that had the focus is disabled while sending, so
// the focus would otherwise fall back to the top of the page. The focus is also what makes a
// screen reader read the answer: the message is not a live region as well, which some screen
// readers would read twice.
// The message is a DKFDS alert with its icon; the icon's words and the text for an answer that
// did not come (no network, a server error page) are the template's, in the page's language.
// Nothing is sent twice: a failed send shows that message and leaves the form to send again.
// Without JavaScript the form posts normally and the page comes back with a thank-you.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";

  function icon(status, variant) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "icon-svg alert-icon");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", status.getAttribute("data-label-" + variant) || "");
    var use = document.createElementNS(SVG, "use");
    use.setAttribute("href", (status.getAttribute("data-icons") || "") + "#" + variant);
    svg.appendChild(use);
    return svg;
  }

  function show(status, text, variant) {
    status.className = "js-page-feedback-status alert alert-" + variant;
    status.textContent = "";
    if (status.getAttribute("data-icons")) {
      status.appendChild(icon(status, variant));
    }
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
        function failed(message) {
          show(status, message || status.getAttribute("data-failed") || "", "error");
          if (button) {
            button.disabled = false;
          }
        }
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        })
          .then(function (response) {
            return response.json().then(
              function (data) {
                return { ok: response.ok, message: data.message };
              },
              function () {
                // Not the portal's answer (a proxy's or server's error page): not sent.
                return { ok: false, message: "" };
              }
            );
          })
          .then(function (result) {
            if (result.ok) {
              // The question stays above the thank-you, as without JavaScript: its heading
              // leaves the legend of the form that is hidden now.
              var heading = form.querySelector("legend h2");
              if (heading) {
                form.parentNode.insertBefore(heading, form);
              }
              form.hidden = true;
              show(status, result.message, "success");
            } else {
              failed(result.message);
            }
          })
          .catch(function () {
            // No answer at all (the network): say so, and let the visitor try again.
            failed("");
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

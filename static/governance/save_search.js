// The catalogue's search script changes filters without reloading the page and keeps the state in
// the address bar; this puts that state in the "Gem søgning" form just before it is sent.
(function () {
  "use strict";
  function start() {
    var forms = document.querySelectorAll("form.js-save-search");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function () {
        var field = form.querySelector("input[name=query]");
        if (!field || !window.URLSearchParams) {
          return;
        }
        var params = new URLSearchParams(window.location.search);
        params.delete("page");
        params.delete("partial");
        params.delete("tilbagemelding");
        field.value = params.toString();
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

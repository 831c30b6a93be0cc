// Starts Det Fælles Designsystem's components. Loaded as a file, never inline: the CSP allows
// scripts from this origin only.
(function () {
  "use strict";
  function start() {
    // The menu button only works with JavaScript; without it the footer carries the menu.
    var openers = document.querySelectorAll(".js-menu-open[hidden]");
    for (var i = 0; i < openers.length; i++) {
      openers[i].removeAttribute("hidden");
    }
    if (window.DKFDS) {
      window.DKFDS.init();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// /tilbud/ without full page loads: ticking a filter, changing the sort order, removing a filter
// or turning a page fetches the same URL with ?partial=1 and swaps in the filters and results.
// The address bar follows (history.pushState), so the search can still be shared, and the
// result count is announced to screen readers. Without JavaScript the form simply submits.
// Loaded as a file, never inline: the CSP allows scripts from this origin only.
(function () {
  "use strict";

  var form = document.getElementById("offer-search");
  if (!form || !window.fetch || !window.URLSearchParams || !window.history.pushState) {
    return;
  }
  var status = document.getElementById("search-status");
  // Whether the folded filters are open (on a phone); kept when the results are swapped in.
  var filtersOpen = false;

  function showFilters(open) {
    filtersOpen = open;
    var panel = document.getElementById("search-filters");
    var toggle = panel && panel.querySelector(".search-filters-toggle");
    if (!panel || !toggle) {
      return;
    }
    panel.classList.toggle("is-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  var searchUrl = form.getAttribute("action");
  var pending = null;

  function hideSubmitButtons() {
    // The "Opdatér resultater" button is for browsers without JavaScript.
    var buttons = form.querySelectorAll(".js-search-submit");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = true;
    }
  }

  function formQuery() {
    var query = new URLSearchParams();
    new URLSearchParams(new FormData(form)).forEach(function (value, key) {
      // Defaults stay out of the address, as on the server-rendered links.
      if (value === "" || (key === "sort" && value === "relevance")) {
        return;
      }
      query.append(key, value);
    });
    return query.toString();
  }

  function showText(query) {
    var input = form.querySelector("input[name=q]");
    if (input) {
      input.value = new URLSearchParams(query).get("q") || "";
    }
  }

  function load(query, options) {
    var url = searchUrl + (query ? "?" + query : "");
    var partialUrl = url + (query ? "&" : "?") + "partial=1";
    var body = document.getElementById("search-body");
    var focusedId = options.focusId || (document.activeElement && document.activeElement.id);
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    body.setAttribute("aria-busy", "true");
    fetch(partialUrl, { credentials: "same-origin", signal: pending.signal })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("template");
        holder.innerHTML = html;
        var fresh = holder.content.querySelector("#search-body");
        if (!fresh) {
          throw new Error("No results in the answer");
        }
        body.replaceWith(fresh);
        hideSubmitButtons();
        showFilters(filtersOpen);
        if (options.push) {
          window.history.pushState({ query: query }, "", url);
        }
        var again = options.focusResults ? null : focusedId && document.getElementById(focusedId);
        if (again) {
          again.focus();
        } else if (options.focusResults) {
          var heading = document.getElementById("search-results-heading");
          if (heading) {
            heading.setAttribute("tabindex", "-1");
            heading.focus();
          }
        }
        if (status) {
          status.textContent = fresh.getAttribute("data-status") || "";
        }
        pending = null;
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") {
          return;
        }
        // Anything unexpected: fall back to an ordinary page load of the same search.
        window.location.assign(url);
      });
  }

  // A drop-down list (the municipality, the sort order) changes its value on every arrow key and
  // typed letter: applied at once, each key would reload the results (WCAG 3.2.2, on input). A
  // list changed from the keyboard is applied when Enter is pressed or focus leaves it; a list
  // chosen with the mouse or a finger at once.
  var keyed = null;
  var keyedChanged = false;

  function applyKeyed(focusId) {
    var changed = keyedChanged;
    keyed = null;
    keyedChanged = false;
    if (changed) {
      load(formQuery(), { push: true, focusId: focusId });
    }
  }

  form.addEventListener("pointerdown", function (event) {
    if (keyed && keyedChanged) {
      // A keyboard choice not yet applied is applied before the pointer does anything else.
      applyKeyed(keyed.id);
    }
    if (event.target && event.target.tagName === "SELECT") {
      keyed = null;
      keyedChanged = false;
    }
  });

  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target || target.tagName !== "SELECT") {
      return;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      if (keyed === target) {
        applyKeyed(target.id);
      }
      return;
    }
    if (event.key !== "Tab" && event.key !== "Escape") {
      keyed = target;
    }
  });

  form.addEventListener("focusout", function (event) {
    if (keyed && event.target === keyed) {
      // Focus goes where it was going when that element survives the new results (it has an
      // id); otherwise back to the list, as after a choice with the mouse.
      applyKeyed((event.relatedTarget && event.relatedTarget.id) || keyed.id);
    }
  });

  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "q") {
      return; // the text is searched when the form is submitted
    }
    if (keyed && event.target === keyed) {
      keyedChanged = true; // applied on Enter or when focus leaves the list
      return;
    }
    load(formQuery(), { push: true });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    load(formQuery(), { push: true });
  });

  form.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".search-filters-toggle");
    if (toggle) {
      showFilters(!filtersOpen);
      return;
    }
    var done = event.target.closest && event.target.closest(".search-filters-done a");
    if (done) {
      event.preventDefault();
      showFilters(false);
      var heading = document.getElementById("search-results-heading");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus();
        heading.scrollIntoView();
      }
      return;
    }
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0) {
      return;
    }
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return; // a new tab or window gets the ordinary page
    }
    if (link.origin !== window.location.origin || link.pathname !== searchUrl) {
      return;
    }
    event.preventDefault();
    var query = link.search.replace(/^\?/, "");
    showText(query);
    load(query, { push: true, focusResults: true });
  });

  window.addEventListener("popstate", function () {
    var query = window.location.search.replace(/^\?/, "");
    showText(query);
    load(query, { push: false });
  });

  hideSubmitButtons();
  showFilters(false);
})();

// "Hvad sker der nu?" on /vejledning/: names the Væksthus as soon as the company picks its
// municipality (and themes, which routing rules may depend on). Without JavaScript the box
// explains the rule in words, so nothing depends on this file.
(function () {
  "use strict";
  var preview = document.getElementById("hub-preview");
  var municipality = document.getElementById("id_municipality");
  if (!preview || !municipality || !window.fetch) {
    return;
  }
  var form = municipality.form;
  var url = preview.getAttribute("data-url");
  var template = preview.getAttribute("data-template");
  var latest = 0;

  function update() {
    if (!municipality.value) {
      return;
    }
    var params = new URLSearchParams();
    params.append("municipality", municipality.value);
    form.querySelectorAll("input[name='themes']:checked").forEach(function (box) {
      params.append("themes", box.value);
    });
    var request = ++latest;
    fetch(url + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data || request !== latest) {
          return;
        }
        preview.textContent = template
          .replace("%(name)s", data.hub.name)
          .replace("%(municipality)s", data.municipality);
      })
      .catch(function () {
        // Keep the explanation already on the page.
      });
  }

  municipality.addEventListener("change", update);
  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "themes") {
      update();
    }
  });
  update();
})();

// Switching language posts to set_language and reloads the page: keep what the company has
// typed. The values wait in this tab's sessionStorage (never sent anywhere) and are put back
// once, into the fresh form; the one-time nonce and the CSRF token are the new page's own.
(function () {
  "use strict";
  var form = document.querySelector("form.routing-form");
  var switcher = document.querySelector("form.language-switch");
  var KEY = "guidance-form-draft";
  var SKIP = { nonce: true, csrfmiddlewaretoken: true, offer: true };
  if (!form || !window.sessionStorage) {
    return;
  }

  function save() {
    var values = [];
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || SKIP[field.name] || field.type === "hidden") {
        return;
      }
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked) {
          values.push([field.name, field.value, true]);
        }
      } else if (field.value) {
        values.push([field.name, field.value, false]);
      }
    });
    try {
      sessionStorage.setItem(KEY, JSON.stringify(values));
    } catch (error) {
      // Storage full or blocked: the switch still works, the text is lost as before.
    }
  }

  function restore() {
    var saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
      sessionStorage.removeItem(KEY);
    } catch (error) {
      return;
    }
    if (!saved) {
      return;
    }
    saved.forEach(function (entry) {
      var fields = form.querySelectorAll("[name='" + entry[0].replace(/'/g, "") + "']");
      Array.prototype.forEach.call(fields, function (field) {
        if (entry[2]) {
          if (field.value === entry[1]) {
            field.checked = true;
          }
        } else if (!field.value) {
          field.value = entry[1];
        }
      });
    });
    var municipality = document.getElementById("id_municipality");
    if (municipality && municipality.value) {
      municipality.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  if (switcher) {
    switcher.addEventListener("submit", save);
  }
  restore();
})();

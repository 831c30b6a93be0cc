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

// The CVR lookup on /vejledning/: once a valid CVR number is typed, ask the register
// (/vejledning/cvr/) and offer to fill in the company's name, address, municipality, industry
// and size. Nothing is filled in until the company asks, and nothing typed is ever cleared: a
// number the register does not know, or a register that does not answer, only says so. Without
// JavaScript the "Hent oplysninger fra CVR" submit button does the lookup on the server (the
// form comes back filled in, nothing sent); here the lookup as you type replaces it.
(function () {
  "use strict";
  var box = document.getElementById("cvr-lookup");
  var cvr = document.getElementById("id_cvr");
  if (!box || !cvr || !window.fetch) {
    return;
  }
  var form = cvr.form;
  var status = document.getElementById("cvr-lookup-status");
  var button = document.getElementById("cvr-lookup-fill");
  var serverButton = document.getElementById("cvr-lookup-submit");
  if (serverButton) {
    // Removed, not hidden: it would stay the form's default button for the Enter key.
    serverButton.parentNode.removeChild(serverButton);
  }
  var WEIGHTS = [2, 7, 6, 5, 4, 3, 2, 1];
  var asked = "";
  var found = null;
  var latest = 0;
  var timer = null;

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values[name] === undefined || values[name] === null ? "" : String(values[name]);
    });
  }

  function compact(value) {
    return value.replace(/^\s*DK/i, "").replace(/[\s.-]/g, "");
  }

  function valid(number) {
    if (!/^[1-9][0-9]{7}$/.test(number)) {
      return false;
    }
    var total = 0;
    for (var i = 0; i < 8; i++) {
      total += WEIGHTS[i] * Number(number.charAt(i));
    }
    return total % 11 === 0;
  }

  function say(text) {
    status.textContent = text;
  }

  function offer(company) {
    found = company;
    var place = [company.postcode, company.city].filter(Boolean).join(" ");
    var address = [company.address, place].filter(Boolean).join(", ");
    var text = fill(box.getAttribute("data-found"), { name: company.name, address: address });
    say(address ? text : text.replace(/,\s*\./, "."));
    button.hidden = false;
  }

  function lookup() {
    var number = compact(cvr.value);
    if (number === asked) {
      return;
    }
    asked = number;
    found = null;
    button.hidden = true;
    if (!valid(number)) {
      say("");
      return;
    }
    var request = ++latest;
    say(box.getAttribute("data-looking"));
    fetch(box.getAttribute("data-url") + "?cvr=" + encodeURIComponent(number), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (request !== latest) {
          return;
        }
        if (response.status === 404) {
          say(fill(box.getAttribute("data-not-found"), { cvr: number }));
          return;
        }
        if (!response.ok) {
          throw new Error("lookup " + response.status);
        }
        return response.json().then(function (company) {
          if (request === latest) {
            offer(company);
          }
        });
      })
      .catch(function () {
        if (request === latest) {
          say(box.getAttribute("data-down"));
          asked = "";
        }
      });
  }

  function set(name, value) {
    var field = form.elements.namedItem(name);
    if (!field || value === null || value === undefined || value === "") {
      return false;
    }
    if (field.tagName === "SELECT") {
      var known = Array.prototype.some.call(field.options, function (option) {
        return option.value === String(value);
      });
      if (!known) {
        return false;
      }
    }
    field.value = String(value);
    field.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  button.addEventListener("click", function () {
    if (!found) {
      return;
    }
    var company = found;
    set("company_name", company.name);
    set("address", company.address);
    set("postcode", company.postcode);
    set("city", company.city);
    if (company.municipality) {
      set("municipality", company.municipality.code);
    }
    if (company.industry) {
      set("industry", company.industry.section);
      // The two-digit industry group, where the form has such a field.
      set("industry_group", company.industry.group);
    }
    var message = box.getAttribute("data-filled");
    if (company.employees) {
      set("employees", company.employees.min);
      if (company.employees.max !== company.employees.min) {
        message +=
          " " +
          fill(box.getAttribute("data-band"), {
            band: company.employees.label,
            count: company.employees.min,
          });
      }
    }
    button.hidden = true;
    found = null;
    say(message);
    var name = form.elements.namedItem("company_name");
    if (name && name.focus) {
      name.focus();
    }
  });

  cvr.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(lookup, 300);
  });
  cvr.addEventListener("change", lookup);
  if (cvr.value && status.textContent.trim()) {
    // The server has just looked this number up (the form came back from the lookup button).
    asked = compact(cvr.value);
  } else if (cvr.value) {
    lookup();
  }
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
